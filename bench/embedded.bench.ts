/**
 * What `pnpm start`'s `--liftoff-only` costs the embedded Postgres. PGlite is Postgres compiled to
 * WebAssembly; by default V8 compiles it with its baseline compiler (Liftoff) and recompiles hot
 * functions with its optimising one (TurboFan) in the background, whose working memory stays in
 * the process (decision 0012). This runs the same PGlite workload (bench/lib/pglite-workload.ts:
 * JSON upserts and list reads) in fresh processes with node's default tiering (the baseline) and
 * with `--liftoff-only`, alternated, and prints each one's time per round, CPU and RSS.
 *
 *   pnpm bench:embedded [--rounds 3]
 *
 * The first workload round includes compiling; the later ones are the steady speed.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, formatInt, formatTable } from './lib/report.ts';
import { startScript } from './lib/start-script.ts';
import { benchArgs, positive } from './lib/args.ts';

const { values: args } = benchArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = positive('rounds', args.rounds);

const workload = fileURLToPath(new URL('./lib/pglite-workload.ts', import.meta.url));
// `pnpm start`'s node arguments (`--import tsx` among them), without and with the one measured.
const common = startScript(fileURLToPath(new URL('../package.json', import.meta.url))).nodeArgs.filter((arg) => arg !== '--liftoff-only');
const variants = [
  { label: 'tiered (node default)', args: common },
  { label: '--liftoff-only', args: [...common, '--liftoff-only'] },
];
type Result = { roundMs: number[]; cpuMs: number; rssKb: number };

const work = mkdtempSync(join(tmpdir(), 'mirror-bench-embedded-'));
const template = join(work, 'template');
process.once('SIGINT', () => {
  rmSync(work, { recursive: true, force: true });
  process.exit(130);
});

function run(nodeArgs: string[], dataDir: string, workloadRounds: number): Promise<Result> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [...nodeArgs, workload, dataDir, String(workloadRounds)],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Result)),
    ),
  );
}

/** A fresh copy of the template folder for each process, so every one starts from the same data. */
let copies = 0;
function freshCopy(): string {
  const dir = join(work, `run-${++copies}`);
  cpSync(template, dir, { recursive: true });
  return dir;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results = new Map<string, Result[]>(variants.map((v) => [v.label, []]));
try {
  // The folder is created once (initdb), with its table, by a process of its own.
  await run(common, template, 0);
  for (let round = 0; round < rounds; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const dir = freshCopy();
      results.get(variant.label)!.push(await run(variant.args, dir, 4));
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const summary = variants.map(({ label }) => {
  const runs = results.get(label)!;
  return {
    label,
    first: median(runs.map((r) => r.roundMs[0]!)),
    steady: median(runs.map((r) => median(r.roundMs.slice(1)))),
    cpu: median(runs.map((r) => r.cpuMs)),
    rss: median(runs.map((r) => r.rssKb)),
  };
});
const [tiered, liftoff] = summary as [(typeof summary)[0], (typeof summary)[0]];
process.stdout.write(
  [
    `embedded bench: one PGlite workload (2,000 JSON upserts and 200 list reads a round, 4 rounds) per process, ${rounds} process(es) each, alternated (${describeMachine()})`,
    formatTable(
      ['node', 'first round ms', 'later rounds ms', 'process CPU ms', 'RSS MB'],
      summary.map((s) => [s.label, formatInt(s.first), formatInt(s.steady), formatInt(s.cpu), formatInt(s.rss / 1024)]),
    ),
    `--liftoff-only / tiered: first round ${(liftoff.first / tiered.first).toFixed(2)}×, later rounds ${(liftoff.steady / tiered.steady).toFixed(2)}×, ` +
      `CPU ${(liftoff.cpu / tiered.cpu).toFixed(2)}×, RSS ${formatInt((liftoff.rss - tiered.rss) / 1024)} MB`,
  ].join('\n') + '\n',
);
