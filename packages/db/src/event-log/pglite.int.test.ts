import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createDb } from '../create-db.ts';
import { appendWebhooks } from './append-webhooks.ts';
import { webhookRow } from './fixtures.ts';
import { readLog, readLogHead } from './read-log.ts';

// Whatever backend the other integration tests use, the embedded default is tested here.
const dataDir = mkdtempSync(join(tmpdir(), 'mirror-pglite-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('the log on embedded PGlite: migrate, append once, read back, and survive a restart', async () => {
  const first = await createDb({ dataDir });
  expect(first.kind).toBe('pglite');
  expect(await first.checkReady()).toEqual({ ready: false, reason: 'migrations have not been run' });
  await first.migrate();
  expect(await first.checkReady()).toEqual({ ready: true });

  const rows = [webhookRow(), webhookRow(), webhookRow()];
  const outcomes = await appendWebhooks(first.db, [...rows, rows[0]!]);
  expect(outcomes.map((o) => o.status)).toEqual(['inserted', 'inserted', 'inserted', 'duplicate']);
  await first.close();

  const reopened = await createDb({ dataDir });
  await reopened.migrate(); // a second migrate is a no-op
  const stored = await readLog(reopened.db, { after: 0, limit: 10 });
  expect(stored.map((r) => r.eventId)).toEqual(rows.map((r) => r.eventId));
  expect(stored.map((r) => r.payload)).toEqual(rows.map((r) => JSON.parse(r.body)));
  expect(await readLogHead(reopened.db)).toBe(stored.at(-1)!.position);
  expect((await appendWebhooks(reopened.db, [rows[1]!]))[0]?.status).toBe('duplicate');
  await reopened.close();
}, 60_000);
