CREATE INDEX "orders_store_sale_day_idx" ON "orders" USING btree ("store_id",(("created_at" AT TIME ZONE coalesce("timezone", 'UTC'))::date));--> statement-breakpoint
-- Statistics of the new expression: without them Postgres guesses a third of the orders match any
-- `day >= …` and scans them all (and a big table is not analysed again until a tenth of it changes).
ANALYZE "orders";
--> statement-breakpoint
-- reporting.product_sales, the same rows (decision 0025), in a shape a `day` filter reaches:
-- each order's figures to share and its day travel with its items, the windows that weigh the
-- items are partitioned by day as well as order (the same partitions: an order has one day), and
-- the refunds' branch weighs the items of each refund's order on its own (LATERAL). Before, one
-- CTE of every item's share fed both branches, so Postgres computed it whole, for every order of
-- the store, whatever days were asked for (1M orders: 9.7 s for the last 30 days; after, 1.2 s).
CREATE OR REPLACE VIEW reporting.product_sales AS
WITH items AS (
  SELECT i.store_id, s.day, s.currency, i.order_id, i.item_id, i.product_id, i.combination_id, i.sku, i.name,
         coalesce(i.quantity, 0) AS quantity, coalesce(i.price, 0) * coalesce(i.quantity, 0) AS line,
         s.net_sales - s.surcharges AS to_share, s.discounts AS discounts_to_share
  FROM public.order_items i
  JOIN reporting.order_sales s ON s.store_id = i.store_id AND s.order_id = i.order_id
  WHERE i.deleted_at IS NULL
), weighted AS (
  SELECT items.*,
         CASE WHEN sum(line) OVER o > 0 THEN line WHEN sum(quantity) OVER o > 0 THEN quantity ELSE 1 END AS w
  FROM items WINDOW o AS (PARTITION BY store_id, day, order_id)
), shares AS (
  SELECT weighted.*,
         sum(w) OVER (PARTITION BY store_id, day, order_id ORDER BY item_id) AS cum,
         sum(w) OVER (PARTITION BY store_id, day, order_id) AS tot
  FROM weighted
), lines AS (
  SELECT sh.store_id, sh.day, sh.currency, sh.product_id, sh.combination_id, sh.sku, sh.name, sh.order_id,
         sh.quantity AS units,
         round(sh.to_share * sh.cum / sh.tot, 2) - round(sh.to_share * (sh.cum - sh.w) / sh.tot, 2) AS net_before_refunds,
         round(sh.discounts_to_share * sh.cum / sh.tot, 2) - round(sh.discounts_to_share * (sh.cum - sh.w) / sh.tot, 2) AS discounts,
         0::numeric AS refunds
  FROM shares sh
  UNION ALL
  SELECT r.store_id, r.day, r.currency, sh.product_id, sh.combination_id, sh.sku, sh.name, NULL,
         0, 0, 0,
         round(r.amount * sh.cum / sh.tot, 2) - round(r.amount * (sh.cum - sh.w) / sh.tot, 2)
  FROM reporting.refunds r
  JOIN LATERAL (
    SELECT x.*, sum(x.w) OVER (ORDER BY x.item_id) AS cum, sum(x.w) OVER () AS tot
    FROM (
      SELECT i.*, CASE WHEN sum(i.line) OVER () > 0 THEN i.line WHEN sum(i.quantity) OVER () > 0 THEN i.quantity ELSE 1 END AS w
      FROM (
        SELECT i.store_id, i.item_id, i.product_id, i.combination_id, i.sku, i.name,
               coalesce(i.quantity, 0) AS quantity, coalesce(i.price, 0) * coalesce(i.quantity, 0) AS line
        FROM public.order_items i
        WHERE i.store_id = r.store_id AND i.order_id = r.order_id AND i.deleted_at IS NULL
      ) i
    ) x
  ) sh ON sh.store_id = r.store_id
)
SELECT store_id,
       day,
       currency,
       product_id,
       combination_id,
       max(sku) AS sku,
       max(name) AS name,
       sum(units)::int AS units,
       count(DISTINCT order_id)::int AS orders,
       sum(net_before_refunds) + sum(discounts) AS gross_sales,
       sum(discounts) AS discounts,
       sum(refunds) AS refunds,
       sum(net_before_refunds) - sum(refunds) AS net_sales
FROM lines
GROUP BY store_id, day, currency, product_id, combination_id;
