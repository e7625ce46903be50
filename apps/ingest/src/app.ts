import { AppError, describeError, toError, type Logger } from '@mirror/core';
import { sqlState, type AppendOutcome, type WebhookAppend } from '@mirror/db';
import { webhookLogEntry } from '@mirror/catalog';
import { isValidSignature, parseWebhook } from '@mirror/ecwid';
import { Hono } from 'hono';
import { mountHealth, type CheckReady } from '@mirror/core/http';
import { errorResponse } from './on-error.ts';

export type IngestDeps = {
  /** Appends one webhook durably (group-committed); resolves only after the commit. */
  append: (row: WebhookAppend) => Promise<AppendOutcome>;
  /** Readiness of the log's database: reachable and migrated. */
  checkReady: CheckReady;
  /** The app's client_secret; `undefined` accepts unsigned webhooks (local testing only). */
  clientSecret: string | undefined;
  log: Logger;
  bodyLimitBytes?: number;
  /**
   * Answer 503 when the store lookup and the commit together take longer than this: Ecwid gives
   * up after 10 s anyway.
   */
  appendTimeoutMs?: number;
  /** Whether the mirror mirrors this store (has its token, or knows it from an install). */
  isMirroredStore: (storeId: number) => boolean | Promise<boolean>;
  /** Webhooks created longer ago than this are ignored (Ecwid retries for 24 h). */
  maxEventAgeMs?: number;
  /** Webhooks dated further ahead of our clock than this are ignored. */
  maxFutureSkewMs?: number;
  now?: () => number;
  /** Called once per webhook request with its outcome (and why it was ignored), for metrics. */
  onOutcome?: (outcome: WebhookOutcome, eventType: string | undefined, reason?: IgnoredReason) => void;
};

export type WebhookOutcome = 'inserted' | 'duplicate' | 'ignored' | 'bad_request' | 'unauthorized' | 'too_large' | 'unavailable';

/** Why a signed, well-formed webhook is answered 200 and kept nowhere. */
export type IgnoredReason = 'unknown_store' | 'too_old' | 'in_future';

/** The webhook receiver: every 200 means the webhook is committed in the log. */
export function createIngestApp(deps: IngestDeps): Hono {
  const {
    log,
    clientSecret,
    bodyLimitBytes = 256 * 1024,
    appendTimeoutMs = 8000,
    maxEventAgeMs = 48 * 3_600_000,
    // A webhook dated this far ahead of our clock is not believed (clocks drift, not by this much).
    maxFutureSkewMs = 5 * 60_000,
    now = Date.now,
    onOutcome,
  } = deps;
  const app = new Hono();

  app.onError((err, c) => {
    if (!(err instanceof AppError)) log.error({ err }, 'request failed');
    return errorResponse(c, err);
  });
  app.notFound((c) => errorResponse(c, new AppError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)));

  mountHealth(app, deps.checkReady);

  // Not knowing whether the store is mirrored is not knowing whether to keep the webhook: 503,
  // and Ecwid retries, as when the append itself fails.
  async function isMirrored(storeId: number, eventType: string, deadline: number): Promise<boolean> {
    try {
      // Bounded like the append: a database that holds the lookup (a lock, a connection that
      // stopped answering) gets a 503 in time for Ecwid to retry, not a request left hanging.
      const known = deps.isMirroredStore(storeId);
      return typeof known === 'boolean' ? known : await withTimeout(known, timeLeft(deadline, appendTimeoutMs), 'the store lookup');
    } catch (err) {
      onOutcome?.('unavailable', eventType);
      log.warn(
        { cause: { code: sqlState(err), message: describeError(err, { innermost: true, withName: false, maxLength: 200 }) } },
        'store lookup failed',
      );
      throw new AppError('UNAVAILABLE', 'the event log is unavailable; retry later', { cause: err });
    }
  }

  app.post('/webhooks/ecwid', async (c) => {
    // Ecwid appends ?eventtype=… to the URL; the body is the only source of truth (docs/ecwid.md §1.1).
    const signature = c.req.header('x-ecwid-webhook-signature');
    if (clientSecret !== undefined && !signature) {
      onOutcome?.('unauthorized', undefined);
      log.warn({ reason: 'missing signature' }, 'webhook rejected');
      throw new AppError('UNAUTHORIZED', 'missing X-Ecwid-Webhook-Signature header');
    }

    const body = await readBody(c.req.raw, c.req.header('content-length'), bodyLimitBytes);
    if (body === 'too_large') {
      onOutcome?.('too_large', undefined);
      throw new AppError('PAYLOAD_TOO_LARGE', `body exceeds the ${bodyLimitBytes}-byte limit`);
    }
    const parsed = parseWebhook(body);
    if (!parsed.ok) {
      onOutcome?.('bad_request', undefined);
      const { field, message } = parsed.problem;
      log.warn({ reason: 'invalid body', field }, 'webhook rejected');
      throw new AppError('BAD_REQUEST', `${field} ${message}`, { details: { field } });
    }
    const { webhook, text } = parsed;

    // The signature covers only eventCreated and eventId (docs/ecwid.md §2): the body is not authenticated,
    // which is why the projector re-fetches state instead of trusting `data`.
    if (clientSecret !== undefined && !isValidSignature(signature, webhook.eventCreated, webhook.eventId, clientSecret)) {
      onOutcome?.('unauthorized', webhook.eventType);
      log.warn({ reason: 'invalid signature', eventId: webhook.eventId, storeId: webhook.storeId }, 'webhook rejected');
      throw new AppError('UNAUTHORIZED', 'invalid webhook signature');
    }

    // Signed, well formed, and still not the mirror's to keep: answered 200 (anything else makes
    // Ecwid retry for a day, and two weeks of failures block the endpoint) and stored nowhere.
    // The signature covers only eventCreated and eventId, so a captured webhook can be replayed
    // with another storeId: a store the mirror does not mirror is refused here, and a known
    // eventId under another store is a duplicate (the log's unique index on event_id).
    // One budget for the lookup and the commit, from here.
    const deadline = performance.now() + appendTimeoutMs;
    const createdMs = webhook.eventCreated * 1000;
    const ignored: IgnoredReason | undefined =
      createdMs < now() - maxEventAgeMs
        ? 'too_old'
        : createdMs > now() + maxFutureSkewMs
          ? 'in_future'
          : (await isMirrored(webhook.storeId, webhook.eventType, deadline))
            ? undefined
            : 'unknown_store';
    if (ignored) {
      onOutcome?.('ignored', webhook.eventType, ignored);
      log.info({ reason: ignored, eventId: webhook.eventId, storeId: webhook.storeId }, 'webhook ignored');
      return c.body(ignoredBody, 200, jsonHeaders);
    }

    const entry = webhookLogEntry(webhook, text);
    let outcome: AppendOutcome;
    try {
      outcome = await withTimeout(deps.append(entry), timeLeft(deadline, appendTimeoutMs), 'the append');
    } catch (err) {
      onOutcome?.('unavailable', webhook.eventType);
      // Only the driver's cause: drizzle's own message repeats the query parameters (the body).
      log.warn(
        {
          cause: { code: sqlState(err), message: describeError(err, { innermost: true, withName: false, maxLength: 200 }) },
          eventId: webhook.eventId,
        },
        'webhook not committed',
      );
      throw new AppError('UNAVAILABLE', 'the event log is unavailable; retry later', { cause: err });
    }

    if (outcome.status === 'rejected') {
      onOutcome?.('bad_request', webhook.eventType);
      throw new AppError('BAD_REQUEST', `body cannot be stored: ${outcome.reason}`, { details: { field: 'body' } });
    }
    onOutcome?.(outcome.status, webhook.eventType);
    log.debug(
      {
        eventId: webhook.eventId,
        eventType: webhook.eventType,
        storeId: webhook.storeId,
        known: entry.isKnownType,
        outcome: outcome.status,
        ...(outcome.status === 'inserted' && { position: outcome.position }),
      },
      'webhook received',
    );
    // Ecwid re-sends what it does not count as delivered for 24 h (docs/ecwid.md §3), so a
    // duplicate is still a 200.
    return c.body(outcome.status === 'inserted' ? insertedBody : duplicateBody, 200, jsonHeaders);
  });

  app.all('/webhooks/ecwid', (c) => errorResponse(c, new AppError('METHOD_NOT_ALLOWED', 'use POST')));

  return app;
}

const jsonHeaders = { 'content-type': 'application/json' };
const insertedBody = JSON.stringify({ status: 'inserted' });
const duplicateBody = JSON.stringify({ status: 'duplicate' });
const ignoredBody = JSON.stringify({ status: 'ignored' });

/**
 * Reads the body up to `limit` bytes. With a Content-Length (what Ecwid sends) the size is known
 * up front and the body is read in one go, which is much cheaper than a metered stream; a
 * chunked body is read as a stream and abandoned as soon as it passes the limit.
 */
async function readBody(req: Request, contentLength: string | undefined, limit: number): Promise<Uint8Array | 'too_large'> {
  if (contentLength !== undefined && /^\d+$/.test(contentLength)) {
    if (Number(contentLength) > limit) return 'too_large';
    return new Uint8Array(await req.arrayBuffer());
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return 'too_large';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The ms left of a request's budget, as a timer's delay. Node keeps one list of timers per
 * distinct delay: the usual request, whose lookup answered at once, gets the whole budget, the
 * same delay every time, so its timer joins one list; a delay computed to the microsecond made a
 * new list for nearly every webhook, which cost ingest about a fifth more CPU per webhook
 * (bench:lag). Only a lookup that waited shortens the append's limit.
 */
function timeLeft(deadline: number, budget: number): number {
  const left = deadline - performance.now();
  return left > budget - 50 ? budget : Math.max(1, Math.floor(left));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within the time left (${ms} ms)`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(toError(e));
      },
    );
  });
}
