import type { SearchPage } from './schemas/search-page.ts';
import type { Paging } from './search-params.ts';

/** Any client search method: `client.searchOrders`, `client.searchProducts`, … */
export type SearchFn<P extends Paging, Item> = (params: P) => Promise<SearchPage<Item>>;

// Client search methods take optional params, so inference sees `Params | undefined`;
// the filters are inferred from the method alone (`NoInfer`) and may then be left out.
type Filters<P> = NoInfer<Exclude<P, undefined>>;

/**
 * Every page of a search, 100 items at a time, from `params.offset` (default 0). Stops at the
 * first empty page or once `total` is reached. Offset paging is not a snapshot: pair an
 * incremental run's `updatedFrom` with a re-scan from the last seen `updateTimestamp`.
 */
export async function* paginatePages<P extends Paging | undefined, Item>(
  search: (params: P) => Promise<SearchPage<Item>>,
  params: Filters<P>,
): AsyncGenerator<SearchPage<Item>, void, undefined> {
  const limit = params.limit ?? 100;
  let offset = params.offset ?? 0;
  for (;;) {
    const page = await search({ ...params, offset, limit } as Filters<P>);
    if (page.items.length === 0) return;
    yield page;
    offset += page.items.length;
    if (offset >= page.total) return;
  }
}

/** Every item of a search, page after page (see {@link paginatePages}). */
export async function* paginate<P extends Paging | undefined, Item>(
  search: (params: P) => Promise<SearchPage<Item>>,
  params: Filters<P>,
): AsyncGenerator<Item, void, undefined> {
  for await (const page of paginatePages(search, params)) yield* page.items;
}
