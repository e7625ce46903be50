import { chunk, mapConcurrent } from '@mirror/core';
import { paginate } from './paginate.ts';
import type { EcwidOrder } from './schemas/order.ts';
import type { SearchPage } from './schemas/search-page.ts';
import type { OrderSearchParams } from './search-params.ts';

/** Found documents, and the requested ids Ecwid did not return (deleted or never existed). */
export type FetchByIdsResult<T, Id> = { found: T[]; missing: Id[] };

/** Tuning for the bulk helpers. */
export type BulkOptions = { chunkSize?: number; concurrency?: number };

/**
 * Refreshes many orders with one search per 100 ids (`GET /orders?ids=…`) instead of one
 * request per order. `ids` takes public ids (with any prefix or suffix) and internal ids
 * (docs/ecwid.md §4.5); an order found is matched back by either, and by its number.
 */
export async function fetchOrdersByIds(
  client: { searchOrders(params: OrderSearchParams): Promise<SearchPage<EcwidOrder>> },
  ids: readonly (string | number)[],
  options: BulkOptions = {},
): Promise<FetchByIdsResult<EcwidOrder, string>> {
  const { chunkSize = 100, concurrency = 4 } = options;
  const wanted = [...new Set(ids.map(String))];
  const pages = await mapConcurrent(chunk(wanted, chunkSize), concurrency, async (idChunk) => {
    const orders: EcwidOrder[] = [];
    for await (const order of paginate(client.searchOrders, { ids: idChunk })) orders.push(order);
    return orders;
  });

  const byKey = new Map<string, EcwidOrder>();
  for (const order of pages.flat()) {
    byKey.set(order.id, order);
    byKey.set(String(order.internalId), order);
    if (order.orderNumber !== undefined) byKey.set(String(order.orderNumber), order);
  }
  const found = new Map<string, EcwidOrder>();
  const missing: string[] = [];
  for (const id of wanted) {
    const order = byKey.get(id);
    if (order) found.set(order.id, order);
    else missing.push(id);
  }
  return { found: [...found.values()], missing };
}
