-- SQL reporting for BI tools: views over the entity tables (never the log). Documented with
-- example queries in docs/reporting.md. Days are UTC calendar days.
--
-- Revenue counts only orders that are paid and not deleted: payment_status PAID or
-- PARTIALLY_REFUNDED (money the shop kept, before refunds), and deleted_at IS NULL.
CREATE SCHEMA IF NOT EXISTS reporting;
--> statement-breakpoint
CREATE VIEW reporting.paid_orders AS
SELECT o.*,
       coalesce(o.refunded_amount, 0) AS refunded
FROM public.orders o
WHERE o.deleted_at IS NULL
  AND o.payment_status IN ('PAID', 'PARTIALLY_REFUNDED');
--> statement-breakpoint
CREATE VIEW reporting.daily_sales AS
WITH days AS (
  SELECT store_id, (created_at AT TIME ZONE 'UTC')::date AS day, total, refunded
  FROM reporting.paid_orders
), refunds AS (
  -- Fully refunded orders are not revenue, but their refunds belong to the day's figures.
  SELECT store_id, (created_at AT TIME ZONE 'UTC')::date AS day,
         sum(coalesce(refunded_amount, total, 0)) AS refunded
  FROM public.orders
  WHERE deleted_at IS NULL AND payment_status = 'REFUNDED'
  GROUP BY 1, 2
)
SELECT coalesce(d.store_id, r.store_id) AS store_id,
       coalesce(d.day, r.day) AS day,
       coalesce(d.orders, 0) AS orders,
       coalesce(d.revenue, 0) AS revenue,
       CASE WHEN coalesce(d.orders, 0) = 0 THEN NULL ELSE round(d.revenue / d.orders, 2) END AS average_order_value,
       coalesce(d.refunded, 0) + coalesce(r.refunded, 0) AS refunded
FROM (
  SELECT store_id, day, count(*) AS orders, sum(coalesce(total, 0)) AS revenue, sum(refunded) AS refunded
  FROM days GROUP BY 1, 2
) d
FULL JOIN refunds r ON r.store_id = d.store_id AND r.day = d.day;
--> statement-breakpoint
CREATE VIEW reporting.product_sales AS
SELECT i.store_id,
       (o.created_at AT TIME ZONE 'UTC')::date AS day,
       i.product_id,
       max(i.sku) AS sku,
       max(i.name) AS name,
       sum(coalesce(i.quantity, 0)) AS units,
       sum(coalesce(i.quantity, 0) * coalesce(i.price, 0)) AS revenue,
       count(DISTINCT i.order_id) AS orders
FROM public.order_items i
JOIN reporting.paid_orders o ON o.store_id = i.store_id AND o.order_id = i.order_id
WHERE i.deleted_at IS NULL
GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE VIEW reporting.customer_summary AS
SELECT store_id,
       max(customer_id) AS customer_id,
       (array_agg(lower(email) ORDER BY created_at DESC NULLS LAST))[1] AS email,
       count(*) AS orders,
       sum(coalesce(total, 0)) AS total_spent,
       min(created_at) AS first_order_at,
       max(created_at) AS last_order_at
FROM reporting.paid_orders
-- Registered customers by id; guests (no customer id) by e-mail address.
GROUP BY store_id, coalesce(customer_id::text, 'guest:' || coalesce(lower(email), ''));
--> statement-breakpoint
CREATE VIEW reporting.abandoned_cart_recovery AS
SELECT store_id,
       (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS carts,
       count(recovered_order_id) AS recovered,
       round(count(recovered_order_id)::numeric / count(*), 4) AS recovery_rate
FROM public.abandoned_carts
WHERE deleted_at IS NULL
GROUP BY 1, 2;
--> statement-breakpoint
CREATE VIEW reporting.coupon_usage AS
SELECT o.store_id,
       o.coupon_code,
       max(c.coupon_id) AS coupon_id,
       max(c.name) AS coupon_name,
       count(*) AS orders,
       sum(coalesce(o.total, 0)) AS revenue,
       sum(CASE WHEN (o.doc->>'couponDiscount') ~ '^-?[0-9]+(\.[0-9]+)?$' THEN (o.doc->>'couponDiscount')::numeric ELSE 0 END) AS discount_given,
       min(o.created_at) AS first_used_at,
       max(o.created_at) AS last_used_at
FROM reporting.paid_orders o
LEFT JOIN public.discount_coupons c
  ON c.store_id = o.store_id AND c.code = o.coupon_code AND c.deleted_at IS NULL
WHERE o.coupon_code IS NOT NULL
GROUP BY 1, 2;
