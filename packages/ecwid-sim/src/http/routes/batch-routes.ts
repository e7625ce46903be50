import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { sleep } from '@mirror/core';
import type { SimStore } from '../../store/sim-store.ts';
import { EcwidApiError } from '../ecwid-error.ts';
import { boolParam } from '../query.ts';
import type { SimEnv } from '../sim-env.ts';

const maxBatchSize = 500;

const batchSchema = z
  .array(
    z.object({
      id: z.string().optional(),
      path: z.string().startsWith('/'),
      method: z.string(),
      body: z.unknown().optional(),
    }),
  )
  .min(1)
  .max(maxBatchSize);

type SubResponse = {
  id: string | undefined;
  status: 'COMPLETED' | 'FAILED' | 'NOT_EXECUTED';
  httpStatusCode: number;
  httpStatusLine: string;
  httpBody: unknown;
};

type Batch = {
  storeId: number;
  status: 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED';
  totalRequests: number;
  completedRequests: number;
  responses: SubResponse[];
};

const reasons: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

export type BatchDeps = {
  /** Runs one sub-request against the store, skipping auth, rate limits and faults. */
  execute: (store: SimStore, path: string) => Promise<Response>;
  /** How long a batch stays QUEUED, so clients have to poll. */
  delayMs: number;
};

/**
 * `POST /batch` and `GET /batch?ticket=` (docs/ecwid.md §5). Only GET sub-requests run; others
 * answer 405. Batches of one store run one after another, like Ecwid's FIFO.
 */
export function createBatchRoutes(deps: BatchDeps) {
  const batches = new Map<string, Batch>();
  const queues = new Map<number, Promise<void>>();
  // `deduplicationKey` (docs/ecwid.md §5): a create repeated with the same key answers the first
  // one's ticket, for an hour, so a client's retry of a create that timed out starts nothing twice.
  const byKey = new Map<string, { ticket: string; until: number }>();
  const dedupMs = 3_600_000;

  async function run(store: SimStore, batch: Batch, items: z.infer<typeof batchSchema>, stopOnFirstFailure: boolean) {
    await sleep(deps.delayMs);
    batch.status = 'IN_PROGRESS';
    let stopped = false;
    for (const item of items) {
      batch.responses.push(stopped ? notExecuted(item.id) : await runOne(store, item));
      stopped ||= stopOnFirstFailure && batch.responses.at(-1)!.status === 'FAILED';
      batch.completedRequests++;
    }
    batch.status = 'COMPLETED';
  }

  async function runOne(store: SimStore, item: { id?: string | undefined; path: string; method: string }): Promise<SubResponse> {
    if (item.method.toUpperCase() !== 'GET') {
      return response(item.id, 405, {
        errorMessage: 'The simulator runs GET sub-requests only',
        errorCode: 'WRONG_PARAMETER',
      });
    }
    const res = await deps.execute(store, item.path);
    const text = await res.text();
    return response(item.id, res.status, text ? parseJson(text) : null);
  }

  return new Hono<SimEnv>()
    .post('/batch', async (c) => {
      const body: unknown = await c.req.json().catch(() => undefined);
      const parsed = batchSchema.safeParse(body);
      if (!parsed.success) {
        const tooMany = Array.isArray(body) && body.length > maxBatchSize;
        throw new EcwidApiError(
          'WRONG_PARAMETER',
          tooMany ? `Batch request is limited to ${maxBatchSize} requests` : "Can't create batch. Batch request body is invalid",
        );
      }
      const store = c.var.store;
      const key = c.req.query('deduplicationKey');
      const now = Date.now();
      for (const [k, seen] of byKey) if (seen.until <= now) byKey.delete(k);
      const scoped = key ? `${store.storeId}\u0000${key}` : undefined;
      const earlier = scoped === undefined ? undefined : byKey.get(scoped);
      if (earlier) return c.json({ ticket: earlier.ticket });
      const ticket = randomUUID();
      if (scoped !== undefined) byKey.set(scoped, { ticket, until: now + dedupMs });
      const batch: Batch = {
        storeId: store.storeId,
        status: 'QUEUED',
        totalRequests: parsed.data.length,
        completedRequests: 0,
        responses: [],
      };
      batches.set(ticket, batch);
      const stopOnFirstFailure = boolParam(c, 'stopOnFirstFailure') ?? true;
      const previous = queues.get(store.storeId) ?? Promise.resolve();
      queues.set(
        store.storeId,
        previous.then(() => run(store, batch, parsed.data, stopOnFirstFailure)),
      );
      return c.json({ ticket });
    })
    .get('/batch', (c) => {
      const ticket = c.req.query('ticket');
      if (!ticket) throw new EcwidApiError('WRONG_PARAMETER', 'Parameter ticket is required');
      const batch = batches.get(ticket);
      if (!batch || batch.storeId !== c.var.store.storeId) throw new EcwidApiError('BATCH_NOT_FOUND', `Batch ${ticket} not found`);
      const escaped = boolParam(c, 'escapedJson') ?? false;
      return c.json({
        status: batch.status,
        totalRequests: batch.totalRequests,
        completedRequests: batch.completedRequests,
        responses: batch.responses.map(({ httpBody, ...rest }) =>
          escaped ? { ...rest, escapedHttpBody: JSON.stringify(httpBody) } : { ...rest, httpBody },
        ),
      });
    });
}

function response(id: string | undefined, httpStatusCode: number, httpBody: unknown): SubResponse {
  return {
    id,
    status: httpStatusCode < 400 ? 'COMPLETED' : 'FAILED',
    httpStatusCode,
    httpStatusLine: `HTTP/1.1 ${httpStatusCode} ${reasons[httpStatusCode] ?? ''}`.trimEnd(),
    httpBody,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function notExecuted(id: string | undefined): SubResponse {
  return { id, status: 'NOT_EXECUTED', httpStatusCode: 0, httpStatusLine: '', httpBody: null };
}
