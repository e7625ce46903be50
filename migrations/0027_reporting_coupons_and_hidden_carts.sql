-- reporting.coupon_usage counted each order once per coupon row with its code: a merchant who
-- deletes a coupon and makes another with the same code has two rows under that code (the
-- deleted one is kept so its name survives), and the join doubled every figure. The orders are
-- now summed first, and the coupon named after is one row per code: the live one, else the one
-- deleted last.
CREATE OR REPLACE VIEW reporting.coupon_usage AS
SELECT u.store_id,
       u.coupon_code,
       c.coupon_id,
       coalesce(c.name, u.order_coupon_name) AS coupon_name,
       u.currency,
       u.orders,
       u.gross_sales,
       u.coupon_discount,
       u.discounts,
       u.refunds,
       u.net_sales,
       u.first_used_at,
       u.last_used_at
FROM (
  SELECT s.store_id,
         s.coupon_code,
         s.currency,
         (array_agg(s.coupon_name ORDER BY s.created_at DESC) FILTER (WHERE s.coupon_name IS NOT NULL))[1] AS order_coupon_name,
         count(*)::int AS orders,
         sum(s.gross_sales) AS gross_sales,
         sum(s.coupon_discount) AS coupon_discount,
         sum(s.discounts) AS discounts,
         sum(s.refunded) AS refunds,
         sum(s.net_sales) - sum(s.refunded) AS net_sales,
         min(s.created_at) AS first_used_at,
         max(s.created_at) AS last_used_at
  FROM reporting.order_sales s
  WHERE s.coupon_code IS NOT NULL
  GROUP BY s.store_id, s.coupon_code, s.currency
) u
LEFT JOIN (
  SELECT DISTINCT ON (dc.store_id, dc.code) dc.store_id, dc.code, dc.coupon_id, dc.name
  FROM public.discount_coupons dc
  WHERE dc.code IS NOT NULL
  ORDER BY dc.store_id, dc.code, dc.deleted_at IS NULL DESC, dc.deleted_at DESC, dc.source_position DESC
) c ON c.store_id = u.store_id AND c.code = u.coupon_code;
--> statement-breakpoint
-- reporting.abandoned_cart_recovery counted carts the merchant deleted: deleting an abandoned
-- cart in Ecwid's admin hides it (`hidden`), it does not remove it (docs/ecwid.md).
CREATE OR REPLACE VIEW reporting.abandoned_cart_recovery AS
SELECT c.store_id,
       (c.created_at AT TIME ZONE coalesce(p.timezone, 'UTC'))::date AS day,
       p.currency,
       count(*)::int AS carts,
       count(c.recovered_order_id)::int AS recovered,
       round(count(c.recovered_order_id)::numeric / count(*), 4) AS recovery_rate,
       coalesce(sum(c.total), 0) AS cart_value,
       coalesce(sum(c.total) FILTER (WHERE c.recovered_order_id IS NOT NULL), 0) AS recovered_value
FROM public.abandoned_carts c
LEFT JOIN public.store_profiles p ON p.store_id = c.store_id AND p.deleted_at IS NULL
WHERE c.deleted_at IS NULL
  AND NOT coalesce(c.hidden, false)
GROUP BY 1, 2, 3;
--> statement-breakpoint
COMMENT ON VIEW reporting.coupon_usage IS 'One row per store, coupon code, currency; orders that count as sales with that coupon. coupon_id and coupon_name: the live coupon with that code, else the one deleted last (the name survives the deletion), else the name on the orders.';
--> statement-breakpoint
COMMENT ON VIEW reporting.abandoned_cart_recovery IS 'One row per store, cart creation day (store time zone), currency; carts neither deleted nor hidden (deleting a cart in Ecwid hides it), recovered when recovered_order_id is set.';
