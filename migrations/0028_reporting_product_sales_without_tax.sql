-- reporting.product_sales weighed an order's lines by `price × quantity`. In a tax-inclusive
-- store `price` holds the line's tax, so where lines carry different rates (a 7% book beside a
-- 19% toy) the tax moved net sales between products: two lines of 10.00 net each came out 9.47
-- and 10.53. Lines are now weighed by their price without tax (`priceWithoutTax`, Ecwid's own
-- figure; in a tax-exclusive store the same as `price`), falling back to `price` where an order
-- line has none. The order's figures still add up exactly over its lines: only the weights changed.
CREATE OR REPLACE VIEW reporting.product_sales AS
WITH items AS (
  SELECT i.store_id, s.day, s.currency, i.order_id, i.item_id, i.product_id, i.combination_id, i.sku, i.name,
         coalesce(i.quantity, 0) AS quantity, coalesce(i.price_without_tax, i.price, 0) * coalesce(i.quantity, 0) AS line,
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
               coalesce(i.quantity, 0) AS quantity, coalesce(i.price_without_tax, i.price, 0) * coalesce(i.quantity, 0) AS line
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
--> statement-breakpoint
COMMENT ON VIEW reporting.product_sales IS 'One row per store, day, currency, product, variation (combination_id). Order net sales (less surcharges), discounts and refunds spread over line items by price without tax x quantity; sales on the order day, refunds on the refund day. Not attributed: surcharges, orders without line items.';
