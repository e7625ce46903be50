import { Hono } from 'hono';
import { formatEcwidDate } from '../../dates.ts';
import type { DeletedKind } from '../../store/sim-store.ts';
import { EcwidApiError } from '../ecwid-error.ts';
import { dateParam, inRange, page } from '../query.ts';
import type { SimEnv } from '../sim-env.ts';

// Ecwid's legacy docs call the coupon history `/discount_coupons/deleted`; newer texts say
// `/coupons/deleted` (docs/ecwid.md §4.4). Both answer.
const deletedPaths: Record<string, DeletedKind> = {
  orders: 'orders',
  products: 'products',
  customers: 'customers',
  coupons: 'coupons',
  discount_coupons: 'coupons',
  reviews: 'reviews',
};

/** Deleted-items history; mounted before the entity routes so `/orders/deleted` is not an id. */
export function createDeletedRoutes() {
  const routes = new Hono<SimEnv>();
  for (const [path, kind] of Object.entries(deletedPaths)) {
    routes.get(`/${path}/deleted`, (c) => {
      const range = { from: dateParam(c, 'from_date'), to: dateParam(c, 'to_date') };
      const records = c.var.store.deleted[kind].filter((record) => inRange(record.deletedAt, range));
      return c.json(
        page(c, records, (record) => ({
          id: record.id,
          ...(record.orderId === undefined ? {} : { orderId: record.orderId }),
          date: formatEcwidDate(record.deletedAt),
        })),
      );
    });
  }
  return routes;
}

/** Profile, app subscription, app storage and `/latest-stats`. */
export function createStoreRoutes() {
  return new Hono<SimEnv>()
    .get('/profile', (c) => c.json(c.var.store.profile))
    .get('/application', (c) => c.json(c.var.store.application))
    .get('/storage', (c) => c.json(Array.from(c.var.store.storage, ([key, value]) => ({ key, value }))))
    .get('/storage/:key', (c) => {
      const key = c.req.param('key');
      const value = c.var.store.storage.get(key);
      if (value === undefined) throw new EcwidApiError('OTHER', 'Key not found');
      return c.json({ key, value });
    })
    .get('/latest-stats', (c) => {
      const stats = Object.fromEntries(Array.from(c.var.store.latestStats, ([name, seconds]) => [name, formatEcwidDate(seconds)]));
      return c.json(stats);
    });
}
