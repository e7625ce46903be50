/**
 * How much memory does the `pnpm start` demo take? Runs the demo exactly as `pnpm start` does
 * (package.json's script: its allocator environment, node arguments and
 * `--import tsx apps/mirror/src/cli.ts start`, nothing configured: embedded PGlite in a
 * fresh folder, the simulated store, its backfill, then its live webhooks) and samples the
 * process's resident set (/proc/<pid>/status VmRSS) every 200 ms until `--seconds` after its
 * banner: the peak, and the steady state (median of the last 15 s); also with its child
 * processes counted. Then starts it again on the same folder (a later start). Where the
 * memory goes comes from the demo's own /metrics (V8 heap; "external", which holds PGlite's
 * WebAssembly memory).
 *
 * Baselines from the same run: a bare `node` process, and `node --import tsx` running an empty
 * TypeScript file (what any `pnpm start` pays before loading the mirror).
 *
 *   pnpm bench:demo-rss [--seconds 60]
 *
 * Target: steady RSS ≤ 250 MB. Linux only (reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, mark } from './lib/report.ts';
import { startScript } from './lib/start-script.ts';
import { benchArgs, usageError } from './lib/args.ts';

const target = 250;
const { values: args } = benchArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(args.seconds);
if (!Number.isFinite(seconds) || seconds < 20) usageError(`--seconds must be at least 20, got ${args.seconds}`);

const root = fileURLToPath(new URL('..', import.meta.url));
// `pnpm start`'s environment and node arguments, as package.json's script has them.
const { env: scriptEnv, nodeArgs } = startScript(join(root, 'package.json'));
const cli = join(root, 'apps/mirror/src/cli.ts');
const work = mkdtempSync(join(tmpdir(), 'mirror-demo-rss-'));
const children = new Set<ChildProcess>();
process.once('SIGINT', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
  process.exit(130);
});

const mb = (kb: number) => Math.round(kb / 1024);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

function rssKb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The process's descendants (tsx's esbuild service; at a first start, the initdb child). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** An idle process's RSS once it has settled. */
async function idleRss(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, argv, { cwd: root, stdio: 'ignore' });
  children.add(child);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const kb = rssKb(child.pid!) ?? 0;
  await stop(child);
  return kb;
}

type DemoRun = {
  peakKb: number;
  steadyKb: number;
  treePeakKb: number;
  treeSteadyKb: number;
  bannerS: number;
  heapMb: number;
  externalMb: number;
  webhooks: number;
};

async function runDemo(dataDir: string, args: readonly string[], scriptEnvironment: Record<string, string>): Promise<DemoRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...scriptEnvironment,
    PORT: '0',
    MIRROR_DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  };
  for (const name of ['DATABASE_URL', 'ECWID_STORES', 'ECWID_CLIENT_SECRET', 'MIRROR_ADMIN_TOKEN']) delete env[name];
  const started = Date.now();
  const child = spawn(process.execPath, [...args, cli, 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', () => {});
  const samples: { at: number; kb: number; treeKb: number }[] = [];
  const sampler = setInterval(() => {
    const kb = rssKb(child.pid!);
    const others = descendants(child.pid!).reduce((sum, pid) => sum + (rssKb(pid) ?? 0), 0);
    if (kb !== undefined) samples.push({ at: Date.now(), kb, treeKb: kb + others });
  }, 200);
  let bannerS = NaN;
  let port = 0;
  // Until `seconds` after the banner (the demo's live webhooks flow by then), at most 3 minutes in all.
  let deadline = started + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the demo exited with code ${child.exitCode}`);
    const banner = /http:\/\/localhost:(\d+)\/docs/.exec(stdout);
    if (banner && !port) {
      port = Number(banner[1]);
      bannerS = (Date.now() - started) / 1000;
      deadline = Date.now() + seconds * 1000;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!port) throw new Error('no banner within 3 minutes');
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  clearInterval(sampler);
  await stop(child);
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const webhooks = [...metrics.matchAll(/^mirror_webhooks_total\{[^}]*outcome="inserted"[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
  const last = samples.filter((s) => s.at >= deadline - 15_000);
  return {
    peakKb: Math.max(...samples.map((s) => s.kb)),
    steadyKb: median(last.map((s) => s.kb)),
    treePeakKb: Math.max(...samples.map((s) => s.treeKb)),
    treeSteadyKb: median(last.map((s) => s.treeKb)),
    bannerS,
    heapMb: Math.round(gauge('mirror_nodejs_heap_size_used_bytes') / 1024 / 1024),
    externalMb: Math.round(gauge('mirror_nodejs_external_memory_bytes') / 1024 / 1024),
    webhooks,
  };
}

async function main(): Promise<number> {
  const idleTs = join(work, 'idle.ts');
  writeFileSync(idleTs, 'const idle: number = 1e9;\nsetTimeout(() => {}, idle);\n');
  const bare = await idleRss(['-e', 'setTimeout(() => {}, 1e9)']);
  const tsx = await idleRss(['--import', 'tsx', idleTs]);
  const dataDir = join(work, 'pgdata');
  const first = await runDemo(dataDir, nodeArgs, scriptEnv);
  const later = await runDemo(dataDir, nodeArgs, scriptEnv);
  // The same later start with node's and the allocator's defaults: what the script's settings save.
  const plain = await runDemo(dataDir, ['--import', 'tsx'], {});
  const line = (label: string, run: DemoRun) =>
    [
      `  ${label}`,
      `    steady ${mb(run.steadyKb)} MB (${(run.steadyKb / tsx).toFixed(1)}× node+tsx), peak ${mb(run.peakKb)} MB; ` +
        `heap ${run.heapMb} MB, external ${run.externalMb} MB (PGlite's WebAssembly memory, reserved, not all resident)`,
      `    with child processes (esbuild for tsx; initdb at a first start): steady ${mb(run.treeSteadyKb)} MB, peak ${mb(run.treePeakKb)} MB; ` +
        `banner after ${run.bannerS.toFixed(1)} s, ${run.webhooks} webhooks ingested`,
    ].join('\n');
  const worst = Math.max(mb(first.steadyKb), mb(later.steadyKb));
  const lines = [
    `demo-rss bench: \`pnpm start\` demo (${Object.entries(scriptEnv)
      .map(([name, value]) => `${name}=${value} `)
      .join('')}node ${nodeArgs.join(' ')}), RSS sampled every 200 ms until ${seconds} s after its banner (${describeMachine()})`,
    `  baseline     bare node ${mb(bare)} MB; node --import tsx (empty file) ${mb(tsx)} MB`,
    line('first start (creates the database, backfills the demo store):', first),
    line('later start (same folder):', later),
    line('later start with node --import tsx only (no memory settings):', plain),
    `  target       steady RSS ≤ ${target} MB: ${worst <= target ? `${mark(true)} met` : `${mark(false)} MISSED`} (${worst} MB)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return worst <= target ? 0 : 1;
}

void main()
  .then(
    (code) => code,
    (err: unknown) => {
      process.stderr.write(`demo-rss bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    },
  )
  .then(async (code) => {
    for (const child of children) await stop(child);
    rmSync(work, { recursive: true, force: true });
    process.exit(code);
  });
