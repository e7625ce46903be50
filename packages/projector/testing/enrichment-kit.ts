import { randomBytes } from 'node:crypto';
import { createSecretBox, createSilentLogger, tokenFingerprint, type SecretBox } from '@mirror/core';
import { appendWebhooks, eventLogTable, type Db, type EventLogRow } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { webhookLogEntry } from '@mirror/catalog';
import { isValidSignature, parseWebhook, type EcwidClient } from '@mirror/ecwid';
import { buildWebhook, createSimulator, type SimServer, type Simulator, type SimStoreOptions, type WebhookInput } from '@mirror/ecwid-sim';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { readStoreToken, saveSealedToken } from '../src/stores/store-tokens.ts';
import { createClientFactory, type ClientFactory } from '../src/enrichment/create-client-factory.ts';
import { enrichStore, type EnrichStoreDeps } from '../src/enrichment/enrich-store.ts';
import { runEnrichment, type RunEnrichmentOptions } from '../src/enrichment/run-enrichment.ts';

/*
 * Test kit: a migrated database, the simulator listening over real HTTP, clients through the
 * real REST client, and webhooks signed by the simulator and checked and appended the way
 * ingest does (signature, parse, catalog lookup, appendWebhooks).
 */

export type Kit = {
  database: TestDatabase;
  db: Db;
  sim: Simulator;
  server: SimServer;
  clientFor: ClientFactory;
  /** The key the kit's tokens are sealed with. */
  box: SecretBox;
  /** Signs, verifies and appends one webhook; returns its position (undefined: duplicate). */
  send(input: Omit<WebhookInput, 'storeId'> & { storeId?: number }): Promise<number | undefined>;
  /** One enrichment pass for a store, with its token from store_tokens. */
  pass(storeId?: number, extra?: Partial<EnrichStoreDeps>): Promise<Awaited<ReturnType<typeof enrichStore>>>;
  /**
   * A client for one store whose requests go through `fault` first: a Response it returns is
   * the answer, undefined lets the request reach the simulator. The simulator's own faults are
   * global; this fails one store (or one path) only.
   */
  faultyClient(
    storeId: number,
    fault: (url: URL) => Response | Promise<Response | undefined> | undefined,
    options?: { maxAttempts?: number; maxRateLimitWaitMs?: number },
  ): EcwidClient;
  /**
   * Starts the enrichment loop on the kit's database, simulator and tokens (polling every 20 ms
   * unless `extra` says otherwise); `stop` aborts it and resolves once it has stopped.
   */
  loop(extra?: Partial<Omit<RunEnrichmentOptions, 'signal'>>): { stop(): Promise<void> };
  /** Snapshot and tombstone records, in log order. */
  records(storeId?: number): Promise<EventLogRow[]>;
  close(): Promise<void>;
};

export const storeA = 1003;
export const tokenA = 'secret_store_a_token';

/**
 * `profileWithOrders`: a store's first order snapshots bring its profile (enrichment's default,
 * decision 0009). Off unless asked, so the other tests see just the records they are about.
 */
export async function createKit(
  options: { stores?: SimStoreOptions[]; addTokens?: boolean; profileWithOrders?: boolean } = {},
): Promise<Kit> {
  const stores = options.stores ?? [{ storeId: storeA, token: tokenA, seed: 7, size: { orders: 50, products: 30, customers: 20 } }];
  const database = await createTestDatabase();
  const sim = createSimulator({ stores, batchDelayMs: 5 });
  const server = await sim.listen(0);
  const clientFor = createClientFactory({ baseUrl: server.url, maxAttempts: 2, timeoutMs: 5_000, sleep: () => Promise.resolve() });
  const db = database.db;
  const box = createSecretBox(randomBytes(32));
  if (options.addTokens !== false)
    for (const s of stores) await saveSealedToken(db, box, { storeId: s.storeId, token: s.token, source: 'cli' });
  const log = createSilentLogger();

  return {
    database,
    db,
    sim,
    server,
    clientFor,
    box,
    async send(input) {
      const signed = buildWebhook({ storeId: storeA, ...input }, sim.clientSecret);
      const parsed = parseWebhook(new TextEncoder().encode(signed.json));
      if (!parsed.ok) throw new Error(`bad webhook: ${parsed.problem.field}`);
      const { webhook, text } = parsed;
      if (!isValidSignature(signed.signature, webhook.eventCreated, webhook.eventId, sim.clientSecret)) throw new Error('bad signature');
      const [outcome] = await appendWebhooks(db, [webhookLogEntry(webhook, text)]);
      return outcome?.status === 'inserted' ? outcome.position : undefined;
    },
    async pass(storeId = storeA, extra = {}) {
      const store = stores.find((s) => s.storeId === storeId);
      const token = await readStoreToken(db, box, storeId);
      return enrichStore(
        {
          db,
          log,
          client: token ? clientFor(storeId, token) : undefined,
          ...(token && { tokenFingerprint: tokenFingerprint(token) }),
          retryBaseMs: 0,
          profileWithOrders: options.profileWithOrders ?? false,
          ...extra,
        },
        store?.storeId ?? storeId,
      );
    },
    loop(extra = {}) {
      const controller = new AbortController();
      const running = runEnrichment({ db, log, clientFor, box, pollIntervalMs: 20, ...extra, signal: controller.signal });
      return {
        stop: () => {
          controller.abort();
          return running;
        },
      };
    },
    faultyClient(storeId, fault, faultOptions = {}) {
      const store = stores.find((s) => s.storeId === storeId);
      if (!store) throw new Error(`no simulated store ${storeId}`);
      const factory = createClientFactory({
        baseUrl: server.url,
        maxAttempts: faultOptions.maxAttempts ?? 2,
        ...(faultOptions.maxRateLimitWaitMs !== undefined && { maxRateLimitWaitMs: faultOptions.maxRateLimitWaitMs }),
        timeoutMs: 5_000,
        sleep: () => Promise.resolve(),
        fetch: async (input, init) => {
          const url = new URL(input instanceof Request ? input.url : String(input));
          return (await fault(url)) ?? fetch(input, init);
        },
      });
      return factory(storeId, store.token);
    },
    records(storeId = storeA) {
      return db
        .select()
        .from(eventLogTable)
        .where(and(eq(eventLogTable.storeId, storeId), inArray(eventLogTable.kind, ['snapshot', 'tombstone'])))
        .orderBy(asc(eventLogTable.position));
    },
    async close() {
      await server.close();
      await database.close();
    },
  };
}
