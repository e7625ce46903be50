/** The API's error body, as every non-2xx answer carries it. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export type Session = { token: string; role: 'admin' | 'store'; storeId: number | null };

/** Calls the API on this origin with the session's key; throws ApiError with the server's message. */
export async function call<T>(token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep null, the status says enough.
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? 'HTTP', error?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export type Lag = { records: number; seconds: number };

export type StoreHealth = {
  storeId: number;
  storeName: string | null;
  status: string;
  reason: string | null;
  retryAt: string | null;
  hasToken: boolean;
  lastWebhookAt: string | null;
  lastFetchAt: string | null;
  lastReconcileAt: string | null;
  parkedOpen: number;
  lag: { enrichment: Lag; projection: Lag };
  installedAt: string | null;
  uninstalledAt: string | null;
  scopes: string[] | null;
  tokenFingerprint: string | null;
  catchUp: 'backfill' | 'reconcile' | null;
};

export type MirrorStatus = {
  logHead: number;
  projection: { position: number; lagRecords: number };
  rebuild: { position: number; head: number; updatedAt: string; active: boolean } | null;
  stores: StoreHealth[];
};

export type LagHistory = { intervalSeconds: number; samples: { at: string; enrichment: Lag; projection: Lag }[] };

export type Parked = {
  id: number;
  position: number;
  eventType: string | null;
  entity: string | null;
  entityId: string | null;
  error: string;
  attempts: number;
  parkedAt: string;
};

export type ReconcileRun = {
  id: number;
  entity: string;
  mode: string;
  trigger: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  checked: number;
  missing: number;
  stale: number;
  missedDeletes: number;
  healedTombstones: number;
  refreshed: number;
  appended: number;
  requests: number;
  error: string | null;
};

export type Verify = {
  /** `none`: no verify of the store has run on this server yet. */
  status: 'none' | 'running' | 'done' | 'failed';
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  kinds: {
    entity: string;
    status: string;
    reason?: string;
    checked: number;
    missing: number;
    stale: number;
    missedDeletes: number;
    healedTombstones: number;
    samples: { missing: string[]; stale: string[]; missedDeletes: string[]; healedTombstones: string[] };
  }[];
};

export type Backfill = {
  entity: string;
  phase: string;
  offset: number;
  total: number | null;
  startedAt: string | null;
  completedAt: string | null;
  watermark: string | null;
};

export type PersonalDataRequest = {
  id: number;
  kind: string;
  scope: string;
  source: string;
  customerId: number | null;
  email: string | null;
  status: string;
  reason: string | null;
  counts: Record<string, number> | null;
  exportUrl: string | null;
  createdAt: string;
  finishedAt: string | null;
};

export type ApiKey = {
  id: number;
  storeId: number;
  prefix: string;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
};
