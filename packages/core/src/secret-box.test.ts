import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, parseSecretKey, sealedKeyId, SecretKeyError, tokenFingerprint, UnsealError } from './secret-box.ts';

const key = Buffer.alloc(32, 7);

describe('secret box', () => {
  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('secret_abcdef123456', 'store:1003');
    expect(sealed).not.toContain('secret_abcdef123456');
    expect(sealedKeyId(sealed)).toBe(box.keyId);
    expect(box.open(sealed, 'store:1003')).toBe('secret_abcdef123456');
  });

  it('seals the same secret differently each time (a fresh nonce)', () => {
    const box = createSecretBox(key);
    expect(box.seal('x', 'c')).not.toBe(box.seal('x', 'c'));
  });

  it('refuses a value moved to another context, altered, or sealed with another key', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('secret_abc', 'store:1');
    expect(() => box.open(sealed, 'store:2')).toThrow(UnsealError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(() => box.open([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'store:1')).toThrow(UnsealError);
    const other = createSecretBox(randomBytes(32));
    expect(() => other.open(sealed, 'store:1')).toThrow(/another key/);
    expect(() => box.open('secret_plaintext', 'store:1')).toThrow(/not a sealed value/);
  });

  it('parses 32-byte keys in hex and base64, and rejects anything else without echoing it', () => {
    expect(parseSecretKey('07'.repeat(32))).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
    for (const bad of ['', 'short', '07'.repeat(31), Buffer.alloc(16).toString('base64'), 'not base64 at all!']) {
      expect(() => parseSecretKey(bad)).toThrow(SecretKeyError);
    }
    expect(() => parseSecretKey('hunter2hunter2')).toThrow(/^MIRROR_SECRET_KEY must be 32 random bytes/);
    try {
      parseSecretKey('hunter2hunter2');
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('fingerprints a token as the first 12 hex digits of its SHA-256', () => {
    // printf %s secret_abc | sha256sum
    expect(tokenFingerprint('secret_abc')).toBe('sha256:75a535adef0f');
  });
});
