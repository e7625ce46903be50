// The load generator's process: runs one autocannon job sent by runLoad and answers with a
// LoadResult. Not an entry point for people.
import autocannon, { type Result } from 'autocannon';
import { createLatencyRecorder } from './latency.ts';
import type { LoadJob, LoadResult, RequestFactory } from './run-load.ts';

process.once('disconnect', () => process.exit(1));

process.once('message', (job: LoadJob) => {
  void run(job).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (err: unknown) => {
      console.error('load generator failed:', err);
      process.exit(1);
    },
  );
});

async function run(job: LoadJob): Promise<LoadResult> {
  const module = (await import(job.requestModule)) as Record<string, (options: unknown) => RequestFactory>;
  const create = module[job.requestExport];
  if (typeof create !== 'function') throw new Error(`${job.requestModule} exports no ${job.requestExport}()`);
  const next = create(job.requestOptions);
  const latencies = createLatencyRecorder();
  const okIds: string[] = [];
  const cpuBefore = process.cpuUsage();

  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        pipelining: 1,
        duration: job.durationSeconds,
        requests: [
          {
            // Pipelining 1: the per-connection context holds the id of the one request in flight.
            setupRequest: (request, context) => {
              const { id, ...fields } = next();
              context['id'] = id;
              return { ...request, ...fields };
            },
            ...(job.trackIds && {
              onResponse: (status: number, _body: string, context: Record<string, unknown>) => {
                if (status >= 200 && status < 300) okIds.push(context['id'] as string);
              },
            }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.record(ms));
  });

  const cpu = process.cpuUsage(cpuBefore);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    durationSeconds: result.duration,
    completed,
    requestsPerSecond: completed / result.duration,
    latency: latencies.summary(),
    ok: result['2xx'],
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    okIds,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
