import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Values read from the database when Prometheus scrapes, not on every event. */
export type MetricsProbe = () => Promise<{
  logHead: number;
  parked: number;
  /** Lag per stage (`projection`, `enrichment:<storeId>`): records behind the head and age in seconds. */
  lag: { stage: string; records: number; seconds: number }[];
  /** Each store the mirror knows and its enrichment status (`active`, `paused`, `blocked`, …). */
  stores?: { storeId: number; status: string; parked: number }[];
  /** Per store and entity (the catalogue's public name): what the latest reconcile run found differing. */
  reconcile?: { storeId: number; entity: string; differences: number }[];
  /** Personal-data requests not finished, by status (awaiting_confirmation, received, running), and failed ones. */
  personalDataRequests?: Partial<Record<(typeof personalDataStatuses)[number], number>>;
}>;

/** The personal-data request statuses exported (each always, 0 when none, so an alert's series exists). */
export const personalDataStatuses = ['awaiting_confirmation', 'received', 'running', 'failed'] as const;

/**
 * Every status a store can be in (the projector's EnrichmentStatus): each is exported, 0 or 1,
 * so that a series an alert watches exists before the store first enters that status.
 */
const storeStatuses = ['active', 'waiting_for_token', 'blocked', 'paused', 'uninstalled'] as const;

/**
 * The mirror's Prometheus metrics, one registry per process. Components get the metric objects
 * (or hooks that feed them); `/metrics` renders the registry.
 */
export function createMetrics(options: { probe?: MetricsProbe; defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mirror_' });

  const webhooks = new Counter({
    name: 'mirror_webhooks_total',
    help: 'Webhook requests by event type and outcome (inserted, duplicate, ignored, bad_request, unauthorized, too_large, unavailable)',
    labelNames: ['event_type', 'outcome'] as const,
    registers: [registry],
  });
  const webhooksIgnored = new Counter({
    name: 'mirror_webhooks_ignored_total',
    help: 'Signed webhooks answered 200 and stored nowhere, by reason (unknown_store, too_old, in_future)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const groupCommitSize = new Histogram({
    name: 'mirror_ingest_batch_size',
    help: 'Webhooks committed together in one group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  });
  const groupCommitSeconds = new Histogram({
    name: 'mirror_ingest_batch_seconds',
    help: 'Time to commit one group of webhooks',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const restCalls = new Counter({
    name: 'mirror_ecwid_requests_total',
    help: 'Ecwid REST calls by HTTP status (or network_error, timeout)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const fetches = new Counter({
    name: 'mirror_entity_fetches_total',
    help: "Entities re-fetched from Ecwid by entity (the catalogue's public name) and outcome (ok, gone, failed)",
    labelNames: ['entity', 'outcome'] as const,
    registers: [registry],
  });
  const unconfirmedClaims = new Counter({
    name: 'mirror_unconfirmed_claims_total',
    help: 'Webhook claims Ecwid contradicted, by entity and claim: delete (a *.deleted for an entity Ecwid still serves) or uninstall (Ecwid still honours the token)',
    labelNames: ['entity', 'claim'] as const,
    registers: [registry],
  });
  const reconcileRuns = new Counter({
    name: 'mirror_reconcile_runs_total',
    help: 'Reconcile runs finished, by entity, mode (incremental, full) and status (done, skipped, failed)',
    labelNames: ['entity', 'mode', 'status'] as const,
    registers: [registry],
  });
  const reconcileFindings = new Counter({
    name: 'mirror_reconcile_findings_total',
    help: 'What reconcile found the mirror lacked, by entity and finding (missing, stale, missed_delete, healed_tombstone, refreshed)',
    labelNames: ['entity', 'finding'] as const,
    registers: [registry],
  });
  const reconcileRequests = new Counter({
    name: 'mirror_reconcile_requests_total',
    help: 'Ecwid requests spent by reconcile, by entity and mode',
    labelNames: ['entity', 'mode'] as const,
    registers: [registry],
  });
  const rateLimitWait = new Counter({
    name: 'mirror_ecwid_rate_limit_wait_seconds_total',
    help: 'Time callers spent waiting for a rate-limit slot',
    registers: [registry],
  });
  const apiRequests = new Histogram({
    name: 'mirror_api_request_seconds',
    help: 'Query API request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  const probe = options.probe;
  if (probe) {
    let last: ReturnType<MetricsProbe> | undefined;
    // All scrape-time gauges share one probe call per scrape.
    const read = () => (last ??= probe().finally(() => setTimeout(() => (last = undefined), 0)));
    new Gauge({
      name: 'mirror_log_head_position',
      help: 'Highest committed position in event_log',
      registers: [registry],
      async collect() {
        this.set((await read()).logHead);
      },
    });
    new Gauge({
      name: 'mirror_parked_events',
      help: 'Parked webhook records waiting for a retry',
      registers: [registry],
      async collect() {
        this.set((await read()).parked);
      },
    });
    new Gauge({
      name: 'mirror_stage_lag_records',
      help: 'Log records a stage has not processed yet',
      labelNames: ['stage'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const l of (await read()).lag) this.set({ stage: l.stage }, l.records);
      },
    });
    new Gauge({
      name: 'mirror_store_status',
      help: 'Each store by enrichment status: 1 for the status it is in, 0 for the others (paused: Ecwid failing, retried with backoff; blocked: the token is refused, someone must act)',
      labelNames: ['store_id', 'status'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const store of (await read()).stores ?? []) {
          for (const status of storeStatuses) this.set({ store_id: String(store.storeId), status }, store.status === status ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'mirror_store_parked_events',
      help: 'Parked webhook records waiting for a retry, per store',
      labelNames: ['store_id'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const store of (await read()).stores ?? []) this.set({ store_id: String(store.storeId) }, store.parked);
      },
    });
    new Gauge({
      name: 'mirror_reconcile_differences',
      help: 'What the latest reconcile run of a store and entity found differing from Ecwid (missing, stale, missed deletes, healed tombstones); read from reconcile_runs, so it survives restarts',
      labelNames: ['store_id', 'entity'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of (await read()).reconcile ?? []) this.set({ store_id: String(r.storeId), entity: r.entity }, r.differences);
      },
    });
    new Gauge({
      name: 'mirror_personal_data_requests',
      help: 'Personal-data requests by status: awaiting_confirmation (an erasure Ecwid asked for by webhook, waiting for an operator), received, running, failed',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const counts = (await read()).personalDataRequests;
        if (!counts) return;
        for (const status of personalDataStatuses) this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'mirror_stage_lag_seconds',
      help: 'Age of the oldest record a stage has not processed yet',
      labelNames: ['stage'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const l of (await read()).lag) this.set({ stage: l.stage }, l.seconds);
      },
    });
  }

  return {
    registry,
    webhooks,
    webhooksIgnored,
    groupCommitSize,
    groupCommitSeconds,
    restCalls,
    fetches,
    unconfirmedClaims,
    reconcileRuns,
    reconcileFindings,
    reconcileRequests,
    rateLimitWait,
    apiRequests,
    /** Prometheus text exposition of every metric. */
    async render() {
      try {
        return await registry.metrics();
      } catch {
        // The probe could not read the database (down, or not there yet): every metric that does
        // not need it, so the counters (webhooks answered 503, say) stay visible while it is down.
        const parts: string[] = [];
        for (const metric of registry.getMetricsAsArray()) {
          const text = await registry.getSingleMetricAsString(metric.name).catch(() => undefined);
          if (text) parts.push(text);
        }
        return `${parts.join('\n')}\n`;
      }
    },
    contentType: registry.contentType,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
