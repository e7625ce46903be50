import { customType, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { int8 } from './columns.ts';

/** A Postgres transaction id: the `xmin` of the row version a rendering was printed from. */
const xid = customType<{ data: string }>({ dataType: () => 'xid' });

/**
 * Columns of a stored list rendering (decision 0022): a parent row as the query API's lists
 * print it (its columns without `doc`, and its child rows), written by projection, rebuild and
 * erasure after the rows it prints. Valid only for the row version it was printed from:
 * `row_position` and `row_version` are the row's `source_position` and `xmin` when printed
 * (every update of a row changes its `xmin`, and every change of a child row comes with one of
 * its parent), and the API prints the row afresh when either differs from the live row's, or
 * when the printer has changed since. A cache of the entity tables (entities.ts), not part of
 * the SQL contract: not in `entities`, so not granted to the reporting role either.
 */
const renderedColumns = () => ({
  rowPosition: int8('row_position').notNull(),
  rowVersion: xid('row_version').notNull(),
  /** Names the printer that printed it (a hash of its SQL): a rendering by another is not read. */
  printer: text('printer').notNull(),
  json: text('json').notNull(),
});

export const ordersRenderedTable = pgTable(
  'orders_rendered',
  { storeId: int8('store_id').notNull(), orderId: text('order_id').notNull(), ...renderedColumns() },
  (t) => [primaryKey({ columns: [t.storeId, t.orderId] })],
);

export const productsRenderedTable = pgTable(
  'products_rendered',
  { storeId: int8('store_id').notNull(), productId: int8('product_id').notNull(), ...renderedColumns() },
  (t) => [primaryKey({ columns: [t.storeId, t.productId] })],
);

export const abandonedCartsRenderedTable = pgTable(
  'abandoned_carts_rendered',
  { storeId: int8('store_id').notNull(), cartId: text('cart_id').notNull(), ...renderedColumns() },
  (t) => [primaryKey({ columns: [t.storeId, t.cartId] })],
);
