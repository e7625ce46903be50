import { entityCatalog, lookupEventType, type FetchedKind, type RefetchBy } from '@mirror/catalog';
import type { EventLogRow } from '@mirror/db';

/** Whether the app is installed in the store, as the `application.*` webhooks say. */
export type Lifecycle = 'active' | 'uninstalled';

/** The lifecycle and the event time of the webhook that set it (null: none seen yet). */
export type LifecycleState = { lifecycle: Lifecycle; at: Date | null };

/** Kinds that are fetched over REST (everything but the derived `store` record). */
export type FetchKind = FetchedKind;

/**
 * One entity the batch concerns, after coalescing: every webhook about it in the batch shares
 * one fetch, and the record's `caused_by` lists all of their positions. A webhook is a hint,
 * never the fact: a `*.deleted` asks for a fetch too (`deleteClaim`), and only Ecwid's 404
 * turns it into a tombstone.
 */
export type WorkGroup =
  | {
      action: 'fetch';
      entityKind: FetchKind;
      key: string;
      positions: number[];
      internalOrderId?: number;
      /** A `*.deleted` webhook said the entity is gone; the fetch confirms it or not. */
      deleteClaim?: { eventType: string };
    }
  /** A `store` snapshot derived from an `application.installed` (or a confirmed uninstall) event itself. */
  | { action: 'derived'; entityKind: 'store'; key: string; positions: number[]; payload: { status: Lifecycle; at: string } };

/**
 * An `application.uninstalled` to confirm: it takes effect only if Ecwid refuses the store's
 * token (the store's profile is fetched to ask). The plan stops at it, so nothing after it is
 * decided before the answer.
 */
export type UninstallProbe = { position: number; at: Date; /** Later than the lifecycle in force: it would change it. */ newer: boolean };

export type SkippedWebhook = { position: number; reason: 'unknown_type' | 'nothing_to_fetch' | 'no_key' };

export type WorkPlan = {
  groups: WorkGroup[];
  skipped: SkippedWebhook[];
  /** Lifecycle changes in log order; the state at a position is the last change at or before it. */
  transitions: ({ position: number } & LifecycleState)[];
  lastPosition: number;
  uninstallProbe?: UninstallProbe;
  /**
   * The plan stopped at a webhook that came while the app was uninstalled: it waits (not
   * skipped) until a new token brings the store back, and is fetched then.
   */
  held?: boolean;
};

type WebhookBody = { entityId?: unknown; eventCreated?: unknown; data?: Record<string, unknown> | null };

const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : typeof value === 'number' ? String(value) : undefined;

/**
 * Works out which entities a store's webhooks concern (docs/ecwid.md §1.4–§1.5, the catalogue's
 * `refetchBy`) and coalesces repeats. Pure: no I/O. The plan stops at the first webhook that
 * arrives while the app is uninstalled: the token is gone, and it waits for a new one (a
 * reinstall), so nothing logged meanwhile is skipped for good.
 */
export function planWork(storeId: number, webhooks: readonly EventLogRow[], initial: LifecycleState): WorkPlan {
  const groups = new Map<string, WorkGroup>();
  const skipped: SkippedWebhook[] = [];
  const transitions: WorkPlan['transitions'] = [];
  let lifecycle = initial.lifecycle;
  let lifecycleAt = initial.at;
  const storeKey = String(storeId);

  function add(group: WorkGroup) {
    const id = `${group.entityKind}\u0000${group.key}`;
    const existing = groups.get(id);
    if (!existing) return void groups.set(id, group);
    existing.positions.push(...group.positions);
    if (existing.action !== 'fetch' || group.action !== 'fetch') return;
    if (group.deleteClaim) existing.deleteClaim = group.deleteClaim;
    if (existing.internalOrderId === undefined && group.internalOrderId !== undefined) existing.internalOrderId = group.internalOrderId;
  }

  let uninstallProbe: UninstallProbe | undefined;
  let held = false;
  let lastPosition = webhooks.at(-1)?.position ?? 0;
  for (const row of webhooks) {
    const position = row.position;
    const body = (row.payload ?? {}) as WebhookBody;
    const data = body.data ?? {};
    const info = lookupEventType(row.eventType);
    if (!info) {
      skipped.push({ position, reason: 'unknown_type' });
      continue;
    }
    if (info.entity === 'store') {
      const event: Lifecycle = info.action === 'installed' ? 'active' : 'uninstalled';
      const at = row.eventCreatedAt ?? (typeof body.eventCreated === 'number' ? new Date(body.eventCreated * 1000) : row.receivedAt);
      // Ecwid does not deliver in order (an uninstall redelivered after the reinstall), so the
      // event time decides, not the log position. On a tie (eventCreated has whole seconds)
      // `installed` wins: a wrong "active" shows up as a blocked store, a wrong "uninstalled"
      // would silently skip every later webhook.
      const newer = lifecycleAt === null || at > lifecycleAt || (at.getTime() === lifecycleAt.getTime() && event === 'active');
      if (event === 'uninstalled') {
        // Not on its word (its storeId is not signed): asking for the profile tells whether
        // Ecwid still honours the token. The plan ends here until that answer.
        add({ action: 'fetch', entityKind: 'store_profile', key: storeKey, positions: [position] });
        uninstallProbe = { position, at, newer };
        lastPosition = position;
        break;
      }
      if (newer) {
        lifecycle = event;
        lifecycleAt = at;
        transitions.push({ position, lifecycle, at });
      }
      // Not coalesced: each install or uninstall is its own fact with its own time (the
      // projection orders them by `at`), also when it arrived too late to change anything here.
      groups.set(`store\u0000${position}`, {
        action: 'derived',
        entityKind: 'store',
        key: storeKey,
        positions: [position],
        payload: { status: event, at: at.toISOString() },
      });
      if (newer && lifecycle === 'active') {
        add({ action: 'fetch', entityKind: 'store_profile', key: storeKey, positions: [position] });
        add({ action: 'fetch', entityKind: 'app_subscription', key: storeKey, positions: [position] });
      }
      continue;
    }
    if (lifecycle === 'uninstalled') {
      held = true;
      lastPosition = position - 1;
      break;
    }
    const entityId = row.entityId ?? nonEmpty(body.entityId);
    const kind = info.entity;
    if (kind === 'personal_data_request' || kind === 'size_chart') {
      skipped.push({ position, reason: 'nothing_to_fetch' });
      continue;
    }
    const decl = entityCatalog[kind];
    // A delete is a claim to check: the entity is fetched, and a 404 makes the tombstone. A kind
    // whose document is a whole list (an order's invoices) or one per store has no entity to
    // end: its delete is a change of that document, fetched like any other.
    const deleteClaim =
      info.action === 'deleted' && decl.shape === 'entity' && decl.key !== 'store' ? { deleteClaim: { eventType: row.eventType } } : {};
    if (kind === 'order') {
      const orderId = nonEmpty(data.orderId);
      const internal = entityId !== undefined && /^\d+$/.test(entityId) ? Number(entityId) : undefined;
      if (!orderId && internal === undefined) {
        skipped.push({ position, reason: 'no_key' });
        continue;
      }
      // Without data.orderId only the internal id is known (docs/ecwid.md §1.5); resolved before fetching.
      const key = orderId ?? `internal:${internal}`;
      // A tombstone always names the internal id too, so projection can match either key.
      const extra = internal !== undefined ? { internalOrderId: internal } : {};
      add({ action: 'fetch', entityKind: 'order', key, positions: [position], ...extra, ...deleteClaim });
      continue;
    }
    const key = keyOf(info.refetchBy, { storeKey, entityId, data });
    if (key === undefined || info.refetchBy === 'none') {
      skipped.push({ position, reason: key === undefined ? 'no_key' : 'nothing_to_fetch' });
      continue;
    }
    add({ action: 'fetch', entityKind: kind, key, positions: [position], ...deleteClaim });
    // An invoice changes its order too (Ecwid bumps the order's update time and lists the
    // invoice in it): the order is read again with its invoice list.
    if (kind === 'invoice') add({ action: 'fetch', entityKind: 'order', key, positions: [position] });
  }
  return {
    groups: [...groups.values()],
    skipped,
    transitions,
    lastPosition,
    ...(uninstallProbe && { uninstallProbe }),
    ...(held && { held }),
  };
}

/** The id a webhook names its entity by, as the catalogue says it is re-fetched. */
function keyOf(
  refetchBy: RefetchBy,
  { storeKey, entityId, data }: { storeKey: string; entityId: string | undefined; data: Record<string, unknown> },
): string | undefined {
  switch (refetchBy) {
    case 'entityId':
      return entityId;
    case 'data.orderId':
      return nonEmpty(data.orderId);
    case 'data.cartId':
      return nonEmpty(data.cartId);
    case 'store':
    case 'none':
      return storeKey;
  }
}

/** The lifecycle (and its event time) in force right after `position`. */
export function lifecycleAt(plan: WorkPlan, initial: LifecycleState, position: number): LifecycleState {
  let state = initial;
  for (const t of plan.transitions) if (t.position <= position) state = { lifecycle: t.lifecycle, at: t.at };
  return state;
}
