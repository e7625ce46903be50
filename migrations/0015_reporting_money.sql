CREATE TABLE "abandoned_cart_items" (
	"store_id" bigint NOT NULL,
	"cart_id" text NOT NULL,
	"item_id" bigint NOT NULL,
	"product_id" bigint,
	"combination_id" bigint,
	"sku" text,
	"name" text,
	"quantity" integer,
	"price" numeric,
	"options" jsonb,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "abandoned_cart_items_store_id_cart_id_item_id_pk" PRIMARY KEY("store_id","cart_id","item_id")
);
--> statement-breakpoint
CREATE TABLE "order_refunds" (
	"store_id" bigint NOT NULL,
	"order_id" text NOT NULL,
	"refund_index" bigint NOT NULL,
	"refunded_at" timestamp with time zone,
	"amount" numeric,
	"reason" text,
	"source" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "order_refunds_store_id_order_id_refund_index_pk" PRIMARY KEY("store_id","order_id","refund_index")
);
--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "price_without_tax" numeric;--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "tax" numeric;--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "combination_id" bigint;--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "options" jsonb;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "coupon_name" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "timezone" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "prices_include_tax" boolean;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "coupon_discount" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "volume_discount" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "membership_discount" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "custom_discount" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "discount" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "gift_card_redemption" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "shipping_method" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "shipping_rate" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "shipping_without_tax" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "handling_fee" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "handling_fee_without_tax" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "surcharges" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "surcharges_without_tax" numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "payment_method" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "billing_country" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "billing_region" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "shipping_country" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "shipping_region" text;--> statement-breakpoint
ALTER TABLE "store_profiles" ADD COLUMN "timezone" text;--> statement-breakpoint
CREATE INDEX "abandoned_cart_items_store_product_idx" ON "abandoned_cart_items" USING btree ("store_id","product_id");--> statement-breakpoint
CREATE INDEX "order_refunds_store_refunded_idx" ON "order_refunds" USING btree ("store_id","refunded_at");--> statement-breakpoint
CREATE INDEX "orders_currency_missing_idx" ON "orders" USING btree ("store_id") WHERE "orders"."currency" is null;--> statement-breakpoint
-- A time zone name Postgres knows, else null (a store's profile may name one it does not):
-- projection stores only names that `AT TIME ZONE` accepts, so no report can fail on one.
CREATE OR REPLACE FUNCTION public.valid_timezone(name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF name IS NULL OR btrim(name) = '' THEN
    RETURN NULL;
  END IF;
  PERFORM now() AT TIME ZONE name;
  RETURN name;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Orders projected before this migration: currency and time zone from the store's profile as
-- it is now (the best there is); every other new column needs `mirror rebuild --entities orders`.
UPDATE public.store_profiles SET timezone = public.valid_timezone(doc->'formatsAndUnits'->>'timezone');
--> statement-breakpoint
UPDATE public.orders o SET currency = p.currency, timezone = p.timezone
FROM public.store_profiles p WHERE p.store_id = o.store_id AND o.currency IS NULL;
--> statement-breakpoint
DROP VIEW IF EXISTS reporting.coupon_usage, reporting.abandoned_cart_recovery, reporting.customer_summary,
  reporting.product_sales, reporting.daily_sales, reporting.paid_orders;
--> statement-breakpoint
-- Grain: one row per order that counts as a sale (docs/reporting.md, "Which orders count"):
-- not deleted, not hidden, payment PAID, PARTIALLY_REFUNDED or REFUNDED, and fulfilment neither
-- WILL_NOT_DELIVER nor RETURNED. Each order's own figures, in its currency; `day` is its
-- creation date in the store's time zone (copied onto the order with the currency).
CREATE VIEW reporting.order_sales AS
WITH o AS (
  SELECT o.*,
         coalesce(o.total, 0) + coalesce(o.gift_card_redemption, 0) AS f_total,
         coalesce(o.shipping_without_tax, 0) + coalesce(o.handling_fee_without_tax, 0) AS f_shipping,
         coalesce(o.tax, 0) AS f_taxes,
         -- Ecwid's `discount` is every discount but the coupon's; when a document leaves it at 0
         -- beside its parts, the parts count.
         coalesce(o.coupon_discount, 0)
           + greatest(coalesce(o.discount, 0), coalesce(o.volume_discount, 0) + coalesce(o.membership_discount, 0) + coalesce(o.custom_discount, 0)) AS f_discounts
  FROM public.orders o
  WHERE o.deleted_at IS NULL
    AND NOT coalesce(o.hidden, false)
    AND o.payment_status IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')
    AND coalesce(o.fulfillment_status, '') NOT IN ('WILL_NOT_DELIVER', 'RETURNED')
)
SELECT o.store_id,
       o.order_id,
       (o.created_at AT TIME ZONE coalesce(o.timezone, 'UTC'))::date AS day,
       o.currency,
       o.created_at,
       o.customer_id,
       o.email,
       o.coupon_code,
       o.coupon_name,
       o.payment_status,
       o.fulfillment_status,
       o.prices_include_tax,
       o.f_total - o.f_shipping - o.f_taxes + o.f_discounts AS gross_sales,
       o.f_discounts AS discounts,
       coalesce(o.coupon_discount, 0) AS coupon_discount,
       o.f_total - o.f_shipping - o.f_taxes AS net_sales,
       o.f_shipping AS shipping,
       o.f_taxes AS taxes,
       o.f_total AS total_sales,
       coalesce(o.surcharges_without_tax, 0) AS surcharges,
       coalesce(o.gift_card_redemption, 0) AS gift_card_redemption,
       coalesce((SELECT sum(coalesce(r.amount, 0)) FROM public.order_refunds r
                 WHERE r.store_id = o.store_id AND r.order_id = o.order_id AND r.deleted_at IS NULL), 0) AS refunded
FROM o;
--> statement-breakpoint
-- Grain: one row per refund of an order that counts as a sale. `day` is the refund's date in
-- the store's time zone (an undated refund: the order's last update).
CREATE VIEW reporting.refunds AS
SELECT r.store_id,
       r.order_id,
       r.refund_index,
       (coalesce(r.refunded_at, o.updated_at) AT TIME ZONE coalesce(o.timezone, 'UTC'))::date AS day,
       o.currency,
       coalesce(r.refunded_at, o.updated_at) AS refunded_at,
       coalesce(r.amount, 0) AS amount,
       r.reason,
       r.source
FROM public.order_refunds r
JOIN reporting.order_sales s ON s.store_id = r.store_id AND s.order_id = r.order_id
JOIN public.orders o ON o.store_id = r.store_id AND o.order_id = r.order_id
WHERE r.deleted_at IS NULL;
--> statement-breakpoint
-- Grain: store, day (store time zone), currency. Sales figures by the orders' creation day,
-- refunds by the refund's day: net_sales = gross_sales - discounts - refunds;
-- total_sales = net_sales + shipping + taxes.
CREATE VIEW reporting.daily_sales AS
SELECT store_id,
       day,
       currency,
       sum(orders)::int AS orders,
       sum(gross_sales) AS gross_sales,
       sum(discounts) AS discounts,
       sum(refunds) AS refunds,
       sum(gross_sales) - sum(discounts) - sum(refunds) AS net_sales,
       sum(shipping) AS shipping,
       sum(taxes) AS taxes,
       sum(gross_sales) - sum(discounts) - sum(refunds) + sum(shipping) + sum(taxes) AS total_sales
FROM (
  SELECT store_id, day, currency, 1 AS orders, gross_sales, discounts, 0::numeric AS refunds, shipping, taxes
  FROM reporting.order_sales
  UNION ALL
  SELECT store_id, day, currency, 0, 0, 0, amount, 0, 0
  FROM reporting.refunds
) f
GROUP BY store_id, day, currency;
--> statement-breakpoint
-- Grain: store, day, currency, product, variation (combination_id, null for the base product).
-- Each order's net sales less its surcharges, its discounts, and each of its refunds are
-- spread over its line items in proportion to price x quantity (in cents, the rounding
-- remainder on the last line by item id, so the lines add up to the order exactly); sales on
-- the order's day, refunds on the refund's. Not attributed to products: surcharges, and every
-- figure of an order without line items.
CREATE VIEW reporting.product_sales AS
WITH items AS (
  SELECT i.store_id, i.order_id, i.item_id, i.product_id, i.combination_id, i.sku, i.name,
         coalesce(i.quantity, 0) AS quantity, coalesce(i.price, 0) * coalesce(i.quantity, 0) AS line
  FROM public.order_items i
  JOIN reporting.order_sales s ON s.store_id = i.store_id AND s.order_id = i.order_id
  WHERE i.deleted_at IS NULL
), weighted AS (
  SELECT items.*,
         CASE WHEN sum(line) OVER o > 0 THEN line WHEN sum(quantity) OVER o > 0 THEN quantity ELSE 1 END AS w
  FROM items WINDOW o AS (PARTITION BY store_id, order_id)
), shares AS (
  SELECT weighted.*,
         sum(w) OVER (PARTITION BY store_id, order_id ORDER BY item_id) AS cum,
         sum(w) OVER (PARTITION BY store_id, order_id) AS tot
  FROM weighted
), lines AS (
  SELECT sh.store_id, s.day, s.currency, sh.product_id, sh.combination_id, sh.sku, sh.name, sh.order_id,
         sh.quantity AS units,
         round((s.net_sales - s.surcharges) * sh.cum / sh.tot, 2) - round((s.net_sales - s.surcharges) * (sh.cum - sh.w) / sh.tot, 2) AS net_before_refunds,
         round(s.discounts * sh.cum / sh.tot, 2) - round(s.discounts * (sh.cum - sh.w) / sh.tot, 2) AS discounts,
         0::numeric AS refunds
  FROM shares sh
  JOIN reporting.order_sales s ON s.store_id = sh.store_id AND s.order_id = sh.order_id
  UNION ALL
  SELECT sh.store_id, r.day, r.currency, sh.product_id, sh.combination_id, sh.sku, sh.name, NULL,
         0, 0, 0,
         round(r.amount * sh.cum / sh.tot, 2) - round(r.amount * (sh.cum - sh.w) / sh.tot, 2)
  FROM shares sh
  JOIN reporting.refunds r ON r.store_id = sh.store_id AND r.order_id = sh.order_id
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
-- Grain: store, customer, currency: registered customers by id, guests (no customer id) by
-- lower-cased e-mail. Figures of the orders that count as sales; refunds of those orders
-- whenever refunded.
CREATE VIEW reporting.customer_summary AS
SELECT store_id,
       max(customer_id) AS customer_id,
       (array_agg(lower(email) ORDER BY created_at DESC NULLS LAST))[1] AS email,
       currency,
       count(*)::int AS orders,
       sum(gross_sales) AS gross_sales,
       sum(discounts) AS discounts,
       sum(refunded) AS refunds,
       sum(net_sales) - sum(refunded) AS net_sales,
       sum(total_sales) - sum(refunded) AS total_sales,
       min(created_at) AS first_order_at,
       max(created_at) AS last_order_at
FROM reporting.order_sales
GROUP BY store_id, coalesce(customer_id::text, 'guest:' || coalesce(lower(email), '')), currency;
--> statement-breakpoint
-- Grain: store, coupon code, currency. Orders that count as sales and used the coupon; the
-- name is the coupon's as the order recorded it, so a deleted coupon keeps its name.
CREATE VIEW reporting.coupon_usage AS
SELECT s.store_id,
       s.coupon_code,
       max(c.coupon_id) AS coupon_id,
       coalesce(max(c.name), (array_agg(s.coupon_name ORDER BY s.created_at DESC) FILTER (WHERE s.coupon_name IS NOT NULL))[1]) AS coupon_name,
       s.currency,
       count(*)::int AS orders,
       sum(s.gross_sales) AS gross_sales,
       sum(s.coupon_discount) AS coupon_discount,
       sum(s.discounts) AS discounts,
       sum(s.refunded) AS refunds,
       sum(s.net_sales) - sum(s.refunded) AS net_sales,
       min(s.created_at) AS first_used_at,
       max(s.created_at) AS last_used_at
FROM reporting.order_sales s
LEFT JOIN public.discount_coupons c ON c.store_id = s.store_id AND c.code = s.coupon_code
WHERE s.coupon_code IS NOT NULL
GROUP BY s.store_id, s.coupon_code, s.currency;
--> statement-breakpoint
-- Grain: store, day the cart was created (store time zone), currency. Carts not deleted.
CREATE VIEW reporting.abandoned_cart_recovery AS
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
GROUP BY 1, 2, 3;
--> statement-breakpoint
COMMENT ON VIEW reporting.order_sales IS 'One row per order that counts as a sale: not deleted, not hidden, payment PAID/PARTIALLY_REFUNDED/REFUNDED, fulfilment not WILL_NOT_DELIVER/RETURNED. The order''s own figures; day = creation date in the store time zone. See docs/reporting.md.';
--> statement-breakpoint
COMMENT ON VIEW reporting.refunds IS 'One row per refund of an order that counts as a sale; day = refund date in the store time zone.';
--> statement-breakpoint
COMMENT ON VIEW reporting.daily_sales IS 'One row per store, day (store time zone), currency. Sales by order creation day, refunds by refund day. net_sales = gross_sales - discounts - refunds; total_sales = net_sales + shipping + taxes.';
--> statement-breakpoint
COMMENT ON VIEW reporting.product_sales IS 'One row per store, day, currency, product, variation (combination_id). Order net sales (less surcharges), discounts and refunds spread over line items by price x quantity; sales on the order day, refunds on the refund day. Not attributed: surcharges, orders without line items.';
--> statement-breakpoint
COMMENT ON VIEW reporting.customer_summary IS 'One row per store, customer (registered by id, guests by lower-cased e-mail), currency; orders that count as sales, their refunds whenever made.';
--> statement-breakpoint
COMMENT ON VIEW reporting.coupon_usage IS 'One row per store, coupon code, currency; orders that count as sales with that coupon. The name survives the coupon''s deletion.';
--> statement-breakpoint
COMMENT ON VIEW reporting.abandoned_cart_recovery IS 'One row per store, cart creation day (store time zone), currency; carts not deleted, recovered when recovered_order_id is set.';
