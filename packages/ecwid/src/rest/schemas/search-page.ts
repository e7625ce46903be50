import { z } from 'zod';

/** Ecwid's search envelope (docs/ecwid.md §4.4): offset paging, at most 100 items a page. */
export function searchPageSchema<Item extends z.ZodType>(item: Item) {
  return z.looseObject({
    total: z.int().nonnegative(),
    count: z.int().nonnegative(),
    offset: z.int().nonnegative(),
    limit: z.int().nonnegative(),
    items: z.array(item),
  });
}

/** One page of a search, items typed, every other envelope field kept. */
export type SearchPage<Item> = {
  total: number;
  count: number;
  offset: number;
  limit: number;
  items: Item[];
  [field: string]: unknown;
};
