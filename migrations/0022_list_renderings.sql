CREATE TABLE "abandoned_carts_rendered" (
	"store_id" bigint NOT NULL,
	"cart_id" text NOT NULL,
	"row_position" bigint NOT NULL,
	"row_version" "xid" NOT NULL,
	"printer" text NOT NULL,
	"json" text NOT NULL,
	CONSTRAINT "abandoned_carts_rendered_store_id_cart_id_pk" PRIMARY KEY("store_id","cart_id")
);
--> statement-breakpoint
CREATE TABLE "orders_rendered" (
	"store_id" bigint NOT NULL,
	"order_id" text NOT NULL,
	"row_position" bigint NOT NULL,
	"row_version" "xid" NOT NULL,
	"printer" text NOT NULL,
	"json" text NOT NULL,
	CONSTRAINT "orders_rendered_store_id_order_id_pk" PRIMARY KEY("store_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "products_rendered" (
	"store_id" bigint NOT NULL,
	"product_id" bigint NOT NULL,
	"row_position" bigint NOT NULL,
	"row_version" "xid" NOT NULL,
	"printer" text NOT NULL,
	"json" text NOT NULL,
	CONSTRAINT "products_rendered_store_id_product_id_pk" PRIMARY KEY("store_id","product_id")
);

--> statement-breakpoint
-- Rows projected before this migration, printed once (decision 0022).
insert into "public"."products_rendered" as t (store_id, "product_id", row_position, row_version, printer, json)
  select "products".store_id, "products"."product_id", "products".source_position, "products".xmin, 'RtjZDOtKS3jh0XwB', (select row_to_json(r) from (select "products"."product_id" as "productId", "products"."sku" as "sku", "products"."name" as "name", "products"."price"::text as "price", "products"."quantity" as "quantity", "products"."unlimited" as "unlimited", "products"."in_stock" as "inStock", "products"."enabled" as "enabled", "products"."product_type_id" as "productTypeId", to_char("products"."created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt", to_char("products"."updated_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt", to_char("products"."deleted_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt", "products"."source_position" as "sourcePosition", to_char("products"."synced_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "syncedAt", (select coalesce(json_agg(c."category_id"), '[]'::json) from (select c."category_id" from "public"."product_categories" c where c.store_id = "products".store_id and c."product_id" = "products"."product_id" order by c."category_id") c) as "categoryIds", (select coalesce(json_agg(c), '[]'::json) from (select c."variation_id" as "variationId", c."sku" as "sku", c."price"::text as "price", c."quantity" as "quantity" from "public"."product_variations" c where c.store_id = "products".store_id and c."product_id" = "products"."product_id" order by c."variation_id") c) as "variations") r)::text
  from "public"."products" as "products"
  where true
  order by "products".store_id, "products"."product_id"
  on conflict (store_id, "product_id") do update set
    row_position = excluded.row_position, row_version = excluded.row_version, printer = excluded.printer, json = excluded.json;
--> statement-breakpoint
-- Rows projected before this migration, printed once (decision 0022).
insert into "public"."orders_rendered" as t (store_id, "order_id", row_position, row_version, printer, json)
  select "orders".store_id, "orders"."order_id", "orders".source_position, "orders".xmin, '9mUnV22LSzTSsg3J', (select row_to_json(r) from (select "orders"."order_id" as "orderId", "orders"."internal_id" as "internalId", "orders"."order_number" as "orderNumber", "orders"."email" as "email", "orders"."customer_id" as "customerId", "orders"."payment_status" as "paymentStatus", "orders"."fulfillment_status" as "fulfillmentStatus", "orders"."total"::text as "total", "orders"."subtotal"::text as "subtotal", "orders"."tax"::text as "tax", "orders"."refunded_amount"::text as "refundedAmount", "orders"."coupon_code" as "couponCode", "orders"."coupon_name" as "couponName", "orders"."currency" as "currency", "orders"."timezone" as "timezone", "orders"."hidden" as "hidden", "orders"."prices_include_tax" as "pricesIncludeTax", "orders"."coupon_discount"::text as "couponDiscount", "orders"."volume_discount"::text as "volumeDiscount", "orders"."membership_discount"::text as "membershipDiscount", "orders"."custom_discount"::text as "customDiscount", "orders"."discount"::text as "discount", "orders"."gift_card_redemption"::text as "giftCardRedemption", "orders"."shipping_method" as "shippingMethod", "orders"."shipping_rate"::text as "shippingRate", "orders"."shipping_without_tax"::text as "shippingWithoutTax", "orders"."handling_fee"::text as "handlingFee", "orders"."handling_fee_without_tax"::text as "handlingFeeWithoutTax", "orders"."surcharges"::text as "surcharges", "orders"."surcharges_without_tax"::text as "surchargesWithoutTax", "orders"."payment_method" as "paymentMethod", "orders"."billing_country" as "billingCountry", "orders"."billing_region" as "billingRegion", "orders"."shipping_country" as "shippingCountry", "orders"."shipping_region" as "shippingRegion", to_char("orders"."created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt", to_char("orders"."updated_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt", to_char("orders"."deleted_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt", "orders"."source_position" as "sourcePosition", to_char("orders"."synced_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "syncedAt", (select coalesce(json_agg(c), '[]'::json) from (select c."item_id" as "itemId", c."product_id" as "productId", c."sku" as "sku", c."name" as "name", c."quantity" as "quantity", c."price"::text as "price", c."price_without_tax"::text as "priceWithoutTax", c."tax"::text as "tax", c."combination_id" as "combinationId", c."options" as "options" from "public"."order_items" c where c.store_id = "orders".store_id and c."order_id" = "orders"."order_id" order by c."item_id") c) as "items", (select coalesce(json_agg(c), '[]'::json) from (select c."refund_index" as "refundIndex", c."refunded_at" as "refundedAt", c."amount"::text as "amount", c."reason" as "reason", c."source" as "source" from "public"."order_refunds" c where c.store_id = "orders".store_id and c."order_id" = "orders"."order_id" order by c."refund_index") c) as "refunds") r)::text
  from "public"."orders" as "orders"
  where true
  order by "orders".store_id, "orders"."order_id"
  on conflict (store_id, "order_id") do update set
    row_position = excluded.row_position, row_version = excluded.row_version, printer = excluded.printer, json = excluded.json;
--> statement-breakpoint
-- Rows projected before this migration, printed once (decision 0022).
insert into "public"."abandoned_carts_rendered" as t (store_id, "cart_id", row_position, row_version, printer, json)
  select "abandoned_carts".store_id, "abandoned_carts"."cart_id", "abandoned_carts".source_position, "abandoned_carts".xmin, '2N8dawFMCMLPu34q', (select row_to_json(r) from (select "abandoned_carts"."cart_id" as "cartId", "abandoned_carts"."email" as "email", "abandoned_carts"."customer_id" as "customerId", "abandoned_carts"."total"::text as "total", "abandoned_carts"."recovered_order_id" as "recoveredOrderId", "abandoned_carts"."hidden" as "hidden", to_char("abandoned_carts"."created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt", to_char("abandoned_carts"."updated_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt", to_char("abandoned_carts"."deleted_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt", "abandoned_carts"."source_position" as "sourcePosition", to_char("abandoned_carts"."synced_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "syncedAt", (select coalesce(json_agg(c), '[]'::json) from (select c."item_id" as "itemId", c."product_id" as "productId", c."combination_id" as "combinationId", c."sku" as "sku", c."name" as "name", c."quantity" as "quantity", c."price"::text as "price", c."options" as "options" from "public"."abandoned_cart_items" c where c.store_id = "abandoned_carts".store_id and c."cart_id" = "abandoned_carts"."cart_id" order by c."item_id") c) as "items") r)::text
  from "public"."abandoned_carts" as "abandoned_carts"
  where true
  order by "abandoned_carts".store_id, "abandoned_carts"."cart_id"
  on conflict (store_id, "cart_id") do update set
    row_position = excluded.row_position, row_version = excluded.row_version, printer = excluded.printer, json = excluded.json;