import { createMetrics, personalDataStatuses, type Metrics } from '@mirror/core';
import { execRows, type Db } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { kindName, lookupEventType, type Kind } from '@mirror/catalog';
import { createRateLimiterRegistry } from '@mirror/ecwid';
import { readStatus, type KindReport } from '@mirror/projector';
import type { Hono } from 'hono';

/** Metrics for one process, with log head, parked count, lag and personal-data requests read from the database per scrape. */
export function createMirrorMetrics(db: Db): Metrics {
  return createMetrics({
    probe: async () => {
      const status = await readStatus(db);
      const requests = await execRows<{ status: string; n: number }>(
        db,
        sql`select status, count(*)::int as n from personal_data_requests
            where status in (select jsonb_array_elements_text(${JSON.stringify(personalDataStatuses)}::jsonb)) group by status`,
      );
      return {
        personalDataRequests: Object.fromEntries(requests.map((r) => [r.status, r.n])),
        logHead: status.logHead,
        parked: status.stores.reduce((sum, s) => sum + s.parkedOpen, 0),
        lag: [
          { stage: 'projection', records: status.projection.lagRecords, seconds: status.projection.lagSeconds },
          ...status.stores.map((s) => ({ stage: `enrichment:${s.storeId}`, records: s.lagRecords, seconds: s.lagSeconds })),
        ],
        stores: status.stores.map((s) => ({ storeId: s.storeId, status: s.status, parked: s.parkedOpen })),
        reconcile: status.reconcile.map((r) => ({
          storeId: r.storeId,
          entity: kindName(r.kind),
          differences: r.missing + r.stale + r.missedDeletes + r.healedTombstones,
        })),
      };
    },
  });
}

/** Hooks that feed the ingest metrics. Event types outside the catalog count as `other`, so a sender cannot mint label values. */
export function ingestHooks(metrics: Metrics) {
  return {
    onOutcome: (outcome: string, eventType: string | undefined, reason?: string) => {
      metrics.webhooks.inc({ event_type: eventType && lookupEventType(eventType) ? eventType : 'other', outcome });
      if (reason) metrics.webhooksIgnored.inc({ reason });
    },
    onFlush: ({ size, durationMs, failed }: { size: number; durationMs: number; failed: boolean }) => {
      metrics.groupCommitSize.observe(size);
      metrics.groupCommitSeconds.observe({ outcome: failed ? 'failed' : 'committed' }, durationMs / 1000);
    },
  };
}

/** Hook that feeds the API latency histogram (route patterns, never raw URLs). */
export function apiHooks(metrics: Metrics) {
  return {
    onRequest: (info: { method: string; route: string; status: number; durationMs: number }) =>
      metrics.apiRequests.observe({ method: info.method, route: info.route, status: String(info.status) }, info.durationMs / 1000),
  };
}

/**
 * The REST side: calls by status and time waited on rate limits, through one shared limiter
 * registry; entities fetched by kind (its public name, a bounded set) and outcome.
 */
export function ecwidHooks(metrics: Metrics, perMinute: number) {
  return {
    limiter: createRateLimiterRegistry({ perMinute, onWait: ({ waitedMs }) => metrics.rateLimitWait.inc(waitedMs / 1000) }),
    onAttempt: (outcome: string) => metrics.restCalls.inc({ status: outcome }),
    onFetched: (kind: Kind, outcome: string) => metrics.fetches.inc({ entity: kindName(kind), outcome }),
    onNote: (kind: Kind, note: string) =>
      metrics.unconfirmedClaims.inc({ entity: kindName(kind), claim: note.replace(/^unconfirmed_/, '') }),
  };
}

/** Feeds the reconcile counters from each kind's report (docs/reconcile.md). */
export function reconcileHooks(metrics: Metrics) {
  return {
    onReport: (_storeId: number, report: KindReport) => {
      const entity = kindName(report.kind);
      metrics.reconcileRuns.inc({ entity, mode: report.mode, status: report.status });
      metrics.reconcileRequests.inc({ entity, mode: report.mode }, report.requests);
      const findings = {
        missing: report.missing,
        stale: report.stale,
        missed_delete: report.missedDeletes,
        healed_tombstone: report.healedTombstones,
        refreshed: report.refreshed,
      };
      for (const [finding, n] of Object.entries(findings)) if (n > 0) metrics.reconcileFindings.inc({ entity, finding }, n);
    },
  };
}

/** Serves `GET /metrics` in Prometheus' text format. */
export function mountMetrics(app: Hono, metrics: Metrics): void {
  app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'content-type': metrics.contentType }));
}
