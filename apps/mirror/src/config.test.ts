import { apiSection } from '@mirror/api';
import { ConfigError } from '@mirror/core';
import { ingestSection } from '@mirror/ingest';
import { describe, expect, it } from 'vitest';
import {
  baseSections,
  clientSecretSection,
  ecwidSection,
  httpSection,
  loadConfig,
  oauthSection,
  personalDataSection,
  reconcileSection,
  requireSecretBox,
  secretKeySection,
} from './config.ts';

describe('configuration sections', () => {
  it('reconcile: defaults of 1h, 24h and a fifth of the rate; durations as operators write them', () => {
    expect(loadConfig({}, { r: reconcileSection }).r).toEqual({ intervalMs: 3_600_000, fullIntervalMs: 86_400_000, maxShare: 0.2 });
    expect(
      loadConfig({ RECONCILE_INTERVAL: '30m', RECONCILE_FULL_INTERVAL: '2d', RECONCILE_MAX_SHARE: '0.5' }, { r: reconcileSection }).r,
    ).toEqual({
      intervalMs: 1_800_000,
      fullIntervalMs: 172_800_000,
      maxShare: 0.5,
    });
    // 0 turns the sweep off; an empty value is unset (compose passes ${VAR:-} as "").
    expect(loadConfig({ RECONCILE_INTERVAL: '0', RECONCILE_MAX_SHARE: '' }, { r: reconcileSection }).r).toMatchObject({
      intervalMs: 0,
      maxShare: 0.2,
    });
  });

  it('personal data: erasures from webhooks wait for an operator unless told to run; anything else is refused by name', () => {
    expect(loadConfig({}, { p: personalDataSection }).p).toEqual({ erasureWebhooks: 'confirm' });
    expect(loadConfig({ PERSONAL_DATA_WEBHOOK_ERASURE: 'run' }, { p: personalDataSection }).p).toEqual({ erasureWebhooks: 'run' });
    expect(() => loadConfig({ PERSONAL_DATA_WEBHOOK_ERASURE: 'yes' }, { p: personalDataSection })).toThrow(
      /PERSONAL_DATA_WEBHOOK_ERASURE: must be confirm or run/,
    );
  });

  it('names every bad variable at once, never echoing a value', () => {
    const load = () =>
      loadConfig(
        { RECONCILE_INTERVAL: 'hourly', RECONCILE_FULL_INTERVAL: '0', RECONCILE_MAX_SHARE: '1.5', ECWID_STORES: '12:secret_abc,oops' },
        { r: reconcileSection, e: ecwidSection },
      );
    expect(load).toThrow(ConfigError);
    const message = (() => {
      try {
        load();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/RECONCILE_INTERVAL: must be a duration/);
    expect(message).toMatch(/RECONCILE_FULL_INTERVAL: must be longer than 0/);
    expect(message).toMatch(/RECONCILE_MAX_SHARE: must be at most 1/);
    expect(message).toMatch(/ECWID_STORES/);
    expect(message).not.toContain('secret_abc');
    expect(message).not.toContain('hourly');
  });

  it('empty optional variables count as unset, as compose and env_file pass them', () => {
    // What `docker compose` hands the container for `ECWID_CLIENT_SECRET=` and the like in .env,
    // or `${VAR:-}` in the compose file: empty strings (and a stray blank), not missing keys.
    const env = {
      DATABASE_URL: '',
      MIRROR_DATA_DIR: '',
      ECWID_CLIENT_SECRET: '',
      ECWID_STORES: ' ',
      ECWID_API_BASE_URL: '',
      MIRROR_ADMIN_TOKEN: '',
      API_CURSOR_SECRET: '',
      PORT: '',
      LOG_LEVEL: '',
      INGEST_MAX_EVENT_AGE: '',
      ECWID_WEBHOOK_VERIFY: '',
    };
    const config = loadConfig(env, {
      ...baseSections,
      http: httpSection,
      ecwid: ecwidSection,
      secret: clientSecretSection,
      api: apiSection,
    });
    expect(config.database).toEqual({ url: undefined, dataDir: './.mirror/pgdata' });
    expect(config.http.port).toBe(3000);
    expect(config.ecwid.stores).toEqual([]);
    expect(config.ecwid.apiBaseUrl).toBe('https://app.ecwid.com/api/v3');
    expect(config.secret.clientSecret).toBeUndefined();
    expect(config.api).toEqual({ adminToken: undefined, cursorSecret: undefined, keyCacheMs: 5000 });
    expect(config.log).toMatchObject({ level: 'info', levelGiven: false });
    // Ingest with verification on (the default an empty ECWID_WEBHOOK_VERIFY keeps) still needs
    // the secret: an empty one is missing, named as such, not "too small".
    expect(() => loadConfig(env, { ingest: ingestSection })).toThrow(/ECWID_CLIENT_SECRET: is required to verify webhook signatures/);
    expect(loadConfig({ ...env, ECWID_CLIENT_SECRET: 'app-secret' }, { ingest: ingestSection }).ingest).toMatchObject({
      clientSecret: 'app-secret',
      verifySignatures: true,
      maxEventAgeMs: 48 * 3_600_000,
    });
  });

  it('a set value that is too short is still refused, naming the variable', () => {
    expect(() => loadConfig({ MIRROR_ADMIN_TOKEN: 'short' }, { api: apiSection })).toThrow(
      /MIRROR_ADMIN_TOKEN: must be at least 16 characters/,
    );
  });
});

describe('the OAuth install flow and the secret key', () => {
  it('oauth: off without ECWID_CLIENT_ID; with it, the secret and the public URL are required; Ecwid by default', () => {
    expect(loadConfig({}, { o: oauthSection }).o).toBeUndefined();
    expect(() => loadConfig({ ECWID_CLIENT_ID: 'app' }, { o: oauthSection })).toThrow(
      /ECWID_CLIENT_SECRET: required when ECWID_CLIENT_ID is set[\s\S]*MIRROR_PUBLIC_URL: required/,
    );
    expect(
      loadConfig({ ECWID_CLIENT_ID: 'app', ECWID_CLIENT_SECRET: 's', MIRROR_PUBLIC_URL: 'https://m.example' }, { o: oauthSection }).o,
    ).toEqual({
      clientId: 'app',
      clientSecret: 's',
      publicUrl: 'https://m.example',
      baseUrl: 'https://my.ecwid.com/api/oauth',
    });
  });

  it('MIRROR_SECRET_KEY: 32 bytes in hex or base64; anything else is named without its value; required where tokens are read', () => {
    expect(loadConfig({}, { k: secretKeySection }).k.box).toBeUndefined();
    expect(() => requireSecretBox(loadConfig({}, { k: secretKeySection }).k)).toThrow(/^MIRROR_SECRET_KEY is not set/);
    const hex = loadConfig({ MIRROR_SECRET_KEY: 'ab'.repeat(32) }, { k: secretKeySection }).k.box!;
    const base64 = loadConfig({ MIRROR_SECRET_KEY: Buffer.alloc(32, 0xab).toString('base64') }, { k: secretKeySection }).k.box!;
    expect(hex.keyId).toBe(base64.keyId);
    expect(() => loadConfig({ MIRROR_SECRET_KEY: 'ab'.repeat(16) }, { k: secretKeySection })).toThrow(
      /MIRROR_SECRET_KEY: must be 32 random bytes/,
    );
    expect(() => loadConfig({ MIRROR_SECRET_KEY: 'ab'.repeat(16) }, { k: secretKeySection })).not.toThrow('ab'.repeat(16));
  });
});
