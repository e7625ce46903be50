import { ConfigError } from '@mirror/core';
import { expect, test } from 'vitest';
import { loadIngestOptions } from './config.ts';

test('refuses to start without ECWID_CLIENT_SECRET, saying what to set', () => {
  expect(() => loadIngestOptions({})).toThrow(ConfigError);
  expect(() => loadIngestOptions({})).toThrow(/ECWID_CLIENT_SECRET: is required.*ECWID_WEBHOOK_VERIFY=false/s);
});

test('accepts unsigned webhooks only when ECWID_WEBHOOK_VERIFY=false is said explicitly', () => {
  const options = loadIngestOptions({ ECWID_WEBHOOK_VERIFY: 'false' });
  expect(options.verifySignatures).toBe(false);
  expect(() => loadIngestOptions({ ECWID_WEBHOOK_VERIFY: 'nope' })).toThrow(/ECWID_WEBHOOK_VERIFY/);
  // Never in production, with or without a secret.
  for (const env of [{}, { ECWID_CLIENT_SECRET: 's' }]) {
    expect(() => loadIngestOptions({ ...env, ECWID_WEBHOOK_VERIFY: 'false', NODE_ENV: 'production' })).toThrow(
      /ECWID_WEBHOOK_VERIFY: is false while NODE_ENV=production/,
    );
  }
  expect(loadIngestOptions({ ECWID_WEBHOOK_VERIFY: 'false', NODE_ENV: 'development' }).verifySignatures).toBe(false);
  expect(loadIngestOptions({ ECWID_CLIENT_SECRET: 's', NODE_ENV: 'production' }).verifySignatures).toBe(true);
});

test('has the documented defaults, in camelCase', () => {
  expect(loadIngestOptions({ ECWID_CLIENT_SECRET: 's' })).toEqual({
    clientSecret: 's',
    verifySignatures: true,
    bodyLimitBytes: 262_144,
    batchMax: 200,
    batchWindowMs: 0,
    appendTimeoutMs: 8000,
    maxEventAgeMs: 48 * 3_600_000,
  });
  expect(loadIngestOptions({ ECWID_CLIENT_SECRET: 's', INGEST_MAX_EVENT_AGE: '1800m' }).maxEventAgeMs).toBe(1800 * 60_000);
  // Shorter than Ecwid's 24 h of retries, it would answer them `ignored`; 0 would lose everything.
  for (const value of ['0', '90m', '86399s'])
    expect(() => loadIngestOptions({ ECWID_CLIENT_SECRET: 's', INGEST_MAX_EVENT_AGE: value }), value).toThrow(
      /INGEST_MAX_EVENT_AGE: must be at least 24h/,
    );
  expect(loadIngestOptions({ ECWID_CLIENT_SECRET: 's', INGEST_MAX_EVENT_AGE: '86400' }).maxEventAgeMs).toBe(86_400_000);
  expect(() => loadIngestOptions({ ECWID_CLIENT_SECRET: 's', INGEST_MAX_EVENT_AGE: 'two days' })).toThrow(
    /INGEST_MAX_EVENT_AGE: must be a duration/,
  );
});

test('counts an empty variable as unset (a compose file passes ${VAR:-} as "")', () => {
  expect(loadIngestOptions({ ECWID_CLIENT_SECRET: 's', INGEST_BATCH_MAX: '' }).batchMax).toBe(200);
  expect(() => loadIngestOptions({ ECWID_CLIENT_SECRET: '' })).toThrow(/ECWID_CLIENT_SECRET: is required/);
});

test('names a bad variable without echoing its value', () => {
  const attempt = () => loadIngestOptions({ ECWID_CLIENT_SECRET: 's', INGEST_BATCH_MAX: 'secret-password' });
  expect(attempt).toThrow(/INGEST_BATCH_MAX/);
  try {
    attempt();
  } catch (err) {
    expect((err as Error).message).not.toContain('secret-password');
  }
});
