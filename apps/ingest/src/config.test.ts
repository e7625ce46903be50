import { ConfigError } from '@mirror/core';
import { expect, test } from 'vitest';
import { loadIngestConfig } from './config.ts';

test('refuses to start without ECWID_CLIENT_SECRET, saying what to set', () => {
  expect(() => loadIngestConfig({})).toThrow(ConfigError);
  expect(() => loadIngestConfig({})).toThrow(/ECWID_CLIENT_SECRET: is required.*ECWID_WEBHOOK_VERIFY=false/s);
});

test('accepts unsigned webhooks only when ECWID_WEBHOOK_VERIFY=false is said explicitly', () => {
  const config = loadIngestConfig({ ECWID_WEBHOOK_VERIFY: 'false' });
  expect(config.ECWID_WEBHOOK_VERIFY).toBe(false);
  expect(() => loadIngestConfig({ ECWID_WEBHOOK_VERIFY: 'nope' })).toThrow(/ECWID_WEBHOOK_VERIFY/);
});

test('has the documented defaults', () => {
  const config = loadIngestConfig({ ECWID_CLIENT_SECRET: 's' });
  expect(config).toMatchObject({ PORT: 3000, INGEST_BODY_LIMIT_BYTES: 262_144, ECWID_WEBHOOK_VERIFY: true });
});

test('names a bad variable without echoing its value', () => {
  const attempt = () => loadIngestConfig({ ECWID_CLIENT_SECRET: 's', DATABASE_URL: 'not a url with secret-password' });
  expect(attempt).toThrow(/DATABASE_URL/);
  try {
    attempt();
  } catch (err) {
    expect((err as Error).message).not.toContain('secret-password');
  }
});
