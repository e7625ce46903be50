import type { BulkOptions, FetchByIdsResult } from './fetch-orders-by-ids.ts';
import { chunk, mapConcurrent } from '@mirror/core';
import { paginate } from './paginate.ts';
import type { EcwidProduct } from './schemas/product.ts';
import type { SearchPage } from './schemas/search-page.ts';
import type { ProductSearchParams } from './search-params.ts';

/** Refreshes many products with one `GET /products?productId=…` per 100 ids. */
export async function fetchProductsByIds(
  client: { searchProducts(params: ProductSearchParams): Promise<SearchPage<EcwidProduct>> },
  ids: readonly number[],
  options: BulkOptions = {},
): Promise<FetchByIdsResult<EcwidProduct, number>> {
  const { chunkSize = 100, concurrency = 4 } = options;
  const wanted = [...new Set(ids)];
  const pages = await mapConcurrent(chunk(wanted, chunkSize), concurrency, async (idChunk) => {
    const products: EcwidProduct[] = [];
    for await (const product of paginate(client.searchProducts, { productId: idChunk })) {
      products.push(product);
    }
    return products;
  });

  const byId = new Map(pages.flat().map((product) => [product.id, product]));
  const found: EcwidProduct[] = [];
  const missing: number[] = [];
  for (const id of wanted) {
    const product = byId.get(id);
    if (product) found.push(product);
    else missing.push(id);
  }
  return { found, missing };
}
