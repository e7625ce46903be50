import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/*
 * Sealing secrets at rest (store access tokens): AES-256-GCM from node:crypto, i.e. OpenSSL's
 * audited implementation, with a fresh 96-bit random nonce per seal and the tag checked on open
 * (docs/decisions/0008-store-tokens-sealed-at-rest.md). A sealed value names the key that sealed
 * it by a short id, so a rotation can tell old from new and a process holding another key says
 * so instead of failing with a garbled token.
 *
 * Format (text, fits a `text` column): `v1.<keyId>.<nonce b64url>.<ciphertext+tag b64url>`.
 */

const version = 'v1';
const nonceBytes = 12;
const tagBytes = 16;

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** A sealed value that this key cannot open: another key sealed it, or it was altered. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  /** The id of the key that sealed it, when the value names one. */
  readonly keyId: string | undefined;
  constructor(message: string, keyId?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.keyId = keyId;
  }
}

/**
 * Parses a 32-byte key written as 64 hex digits or as base64 (standard or URL-safe, padded or
 * not). Errors never echo the value.
 */
export function parseSecretKey(value: string, name = 'MIRROR_SECRET_KEY'): Buffer {
  const text = value.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key?.length !== 32) {
    throw new SecretKeyError(`${name} must be 32 random bytes, as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

/** A fresh random key, base64 (what `openssl rand -base64 32` prints). */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

/** Seals and opens short secrets with one key; `context` binds a value to its place (a store id). */
export type SecretBox = {
  /** Identifies the key (not secret: 8 hex digits of a hash of it). */
  keyId: string;
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
};

/** The id a sealed value carries, or undefined when it is not a sealed value. */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split('.');
  return parts.length === 4 && parts[0] === version ? parts[1] : undefined;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new SecretKeyError('a secret key is 32 bytes');
  const keyId = createHash('sha256').update('mirror-secret-key-id').update(key).digest('hex').slice(0, 8);
  return {
    keyId,
    seal(plaintext, context) {
      const nonce = randomBytes(nonceBytes);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: tagBytes });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return [version, keyId, nonce.toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== version) throw new UnsealError('not a sealed value');
      const [, id, nonceText, bodyText] = parts as [string, string, string, string];
      if (id !== keyId) throw new UnsealError(`sealed with another key (${id}; this key is ${keyId})`, id);
      const nonce = Buffer.from(nonceText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (nonce.length !== nonceBytes || body.length < tagBytes) throw new UnsealError('a sealed value is malformed', id);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: tagBytes });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - tagBytes));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - tagBytes)), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new UnsealError('a sealed value does not open with this key: altered, or moved from another row', id, { cause: err });
      }
    },
  };
}

/**
 * A token as listings show it: `sha256:` and 12 hex digits of its SHA-256. Enough to tell two
 * tokens apart and to check one you hold (`printf %s "$TOKEN" | sha256sum`), never enough to use:
 * Ecwid's tokens are long random strings, so the hash cannot be turned back.
 */
export function tokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12)}`;
}
