import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { claimEmbedded, DataDirInUseError, type EmbeddedClaim } from './claim-embedded.ts';
import { ownerRecordPath, processStartOf, type OwnerRecord } from './owner-record.ts';

/*
 * Who opens a PGlite data folder: exactly one owner at a time, found by everyone else, and a
 * record left by a dead owner recovered from without ever removing a live one. (In one process
 * here; the CLI tests run the same with real processes and kill -9.)
 */

const root = mkdtempSync(join(tmpdir(), 'mirror-claim-'));
const dataDir = join(root, 'pgdata');
const recordPath = ownerRecordPath(dataDir);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const release = async (claims: EmbeddedClaim[]) => {
  for (const claim of claims) if (claim.role === 'owner') await claim.release();
};

/** A pid that ran a moment ago and no longer does. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function staleRecord(overrides: Partial<OwnerRecord> = {}): OwnerRecord {
  return {
    pid: deadPid(),
    nonce: `stale${Math.random().toString(16).slice(2, 10)}`,
    host: hostname(),
    processStart: '1',
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    command: 'mirror start',
    dataDir,
    url: 'postgres://postgres@127.0.0.1:1/postgres',
    ...overrides,
  };
}

const leftovers = () => readdirSync(root).filter((name) => name !== 'pgdata');

describe('claimEmbedded', () => {
  test('two claims at once: one owner, which serves; the other connects to it; a server is refused', async () => {
    const claims = await Promise.all([claimEmbedded(dataDir, { command: 'a' }), claimEmbedded(dataDir, { command: 'b' })]);
    try {
      expect(claims.map((c) => c.role).sort()).toEqual(['client', 'owner']);
      const owner = claims.find((c) => c.role === 'owner')!;
      const client = claims.find((c) => c.role === 'client')!;
      expect(client.url).toBe(owner.url);
      const record = JSON.parse(readFileSync(recordPath, 'utf8')) as OwnerRecord;
      expect(record).toMatchObject({ pid: process.pid, url: owner.url, processStart: processStartOf(process.pid) });
      const refused = await claimEmbedded(dataDir, { command: 'mirror start', exclusive: true }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(DataDirInUseError);
      expect((refused as DataDirInUseError).reason).toBe('exclusive');
      expect((refused as Error).message).toContain(`in use by process ${process.pid}`);
    } finally {
      await release(claims);
    }
    expect(existsSync(recordPath)).toBe(false);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  test('a record of a dead process is removed and the folder taken over', async () => {
    writeFileSync(recordPath, JSON.stringify(staleRecord()));
    const claim = await claimEmbedded(dataDir, { command: 'after a crash' });
    try {
      expect(claim.role).toBe('owner');
      expect((JSON.parse(readFileSync(recordPath, 'utf8')) as OwnerRecord).command).toBe('after a crash');
    } finally {
      await release([claim]);
    }
  }, 60_000);

  test('a record whose pid now belongs to another process (another start time) is stale', async () => {
    writeFileSync(recordPath, JSON.stringify(staleRecord({ pid: process.pid, processStart: 'another start' })));
    const claim = await claimEmbedded(dataDir, { command: 'pid reused' });
    try {
      expect(claim.role).toBe('owner');
    } finally {
      await release([claim]);
    }
  }, 60_000);

  test('a symbolic link to the folder opens it, under the one owner record of the folder itself', async () => {
    // A folder of its own: the tests below count what is left in `root`.
    const own = mkdtempSync(join(tmpdir(), 'mirror-claim-link-'));
    const real = join(own, 'real');
    const link = join(own, 'link');
    const first = await claimEmbedded(real, { command: 'creates it' });
    await release([first]);
    symlinkSync(real, link);
    const claim = await claimEmbedded(link, { command: 'through the link' });
    try {
      expect(claim.role).toBe('owner');
      expect(existsSync(ownerRecordPath(real))).toBe(true);
      expect(existsSync(ownerRecordPath(link))).toBe(false);
      // A second name for the folder finds that owner instead of opening the folder again.
      const second = await claimEmbedded(real, { command: 'by its own name' });
      expect(second.role).toBe('client');
    } finally {
      await release([claim]);
      rmSync(own, { recursive: true, force: true });
    }
  }, 120_000);

  test('a live owner that does not answer is waited for, never taken over', async () => {
    const live = staleRecord({ pid: process.pid, processStart: processStartOf(process.pid) });
    writeFileSync(recordPath, JSON.stringify(live));
    try {
      const notices: [number, number, number][] = [];
      const err = await claimEmbedded(dataDir, {
        command: 'status',
        waitMs: 1000,
        noticeAfterMs: 300,
        onWaiting: (owner, waitedMs, giveUpInMs) => notices.push([owner.pid, waitedMs, giveUpInMs]),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirInUseError);
      expect((err as DataDirInUseError).reason).toBe('unresponsive');
      // Said once, on the way: who it waits for, how long it has, how long is left.
      expect(notices).toHaveLength(1);
      expect(notices[0]![0]).toBe(process.pid);
      expect(notices[0]![1]).toBeGreaterThanOrEqual(300);
      expect(notices[0]![2]).toBeLessThanOrEqual(700);
      expect(JSON.parse(readFileSync(recordPath, 'utf8'))).toEqual(live);
    } finally {
      rmSync(recordPath);
    }
  });

  test('many processes recovering one stale record at once: one owner, the others its clients', async () => {
    const stale = staleRecord();
    writeFileSync(recordPath, JSON.stringify(stale));
    // A recoverer that died in the middle of removing it left its marker: passed over.
    writeFileSync(`${recordPath}.recover-${stale.nonce}.1`, JSON.stringify({ pid: deadPid(), host: hostname(), processStart: '1' }));
    const claims = await Promise.all(Array.from({ length: 5 }, (_, i) => claimEmbedded(dataDir, { command: `c${i}` })));
    try {
      expect(claims.filter((c) => c.role === 'owner')).toHaveLength(1);
      expect(new Set(claims.map((c) => c.url)).size).toBe(1);
    } finally {
      await release(claims);
    }
    expect(leftovers()).toEqual([]);
  }, 60_000);
});
