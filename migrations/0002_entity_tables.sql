CREATE TABLE "abandoned_carts" (
	"store_id" bigint NOT NULL,
	"cart_id" text NOT NULL,
	"email" text,
	"customer_id" bigint,
	"total" numeric,
	"recovered_order_id" text,
	"hidden" boolean,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "abandoned_carts_store_id_cart_id_pk" PRIMARY KEY("store_id","cart_id")
);
--> statement-breakpoint
CREATE TABLE "app_storage" (
	"store_id" bigint NOT NULL,
	"key" text NOT NULL,
	"value" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "app_storage_store_id_key_pk" PRIMARY KEY("store_id","key")
);
--> statement-breakpoint
CREATE TABLE "app_subscriptions" (
	"store_id" bigint PRIMARY KEY NOT NULL,
	"status" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "categories" (
	"store_id" bigint NOT NULL,
	"category_id" bigint NOT NULL,
	"parent_id" bigint,
	"name" text,
	"enabled" boolean,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "categories_store_id_category_id_pk" PRIMARY KEY("store_id","category_id")
);
--> statement-breakpoint
CREATE TABLE "customer_groups" (
	"store_id" bigint NOT NULL,
	"customer_group_id" bigint NOT NULL,
	"name" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customer_groups_store_id_customer_group_id_pk" PRIMARY KEY("store_id","customer_group_id")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"store_id" bigint NOT NULL,
	"customer_id" bigint NOT NULL,
	"email" text,
	"name" text,
	"customer_group_id" bigint,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customers_store_id_customer_id_pk" PRIMARY KEY("store_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "discount_coupons" (
	"store_id" bigint NOT NULL,
	"coupon_id" bigint NOT NULL,
	"code" text,
	"name" text,
	"discount_type" text,
	"discount" numeric,
	"status" text,
	"order_count" integer,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "discount_coupons_store_id_coupon_id_pk" PRIMARY KEY("store_id","coupon_id")
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"store_id" bigint NOT NULL,
	"order_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"type" text,
	"created_at" timestamp with time zone,
	"link" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "invoices_store_id_order_id_invoice_id_pk" PRIMARY KEY("store_id","order_id","invoice_id")
);
--> statement-breakpoint
CREATE TABLE "order_items" (
	"store_id" bigint NOT NULL,
	"order_id" text NOT NULL,
	"item_id" bigint NOT NULL,
	"product_id" bigint,
	"sku" text,
	"name" text,
	"quantity" integer,
	"price" numeric,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "order_items_store_id_order_id_item_id_pk" PRIMARY KEY("store_id","order_id","item_id")
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"store_id" bigint NOT NULL,
	"order_id" text NOT NULL,
	"internal_id" bigint,
	"order_number" bigint,
	"email" text,
	"customer_id" bigint,
	"payment_status" text,
	"fulfillment_status" text,
	"total" numeric,
	"subtotal" numeric,
	"tax" numeric,
	"refunded_amount" numeric,
	"coupon_code" text,
	"currency" text,
	"hidden" boolean,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "orders_store_id_order_id_pk" PRIMARY KEY("store_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "product_categories" (
	"store_id" bigint NOT NULL,
	"product_id" bigint NOT NULL,
	"category_id" bigint NOT NULL,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "product_categories_store_id_product_id_category_id_pk" PRIMARY KEY("store_id","product_id","category_id")
);
--> statement-breakpoint
CREATE TABLE "product_types" (
	"store_id" bigint NOT NULL,
	"product_type_id" bigint NOT NULL,
	"name" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "product_types_store_id_product_type_id_pk" PRIMARY KEY("store_id","product_type_id")
);
--> statement-breakpoint
CREATE TABLE "product_variations" (
	"store_id" bigint NOT NULL,
	"product_id" bigint NOT NULL,
	"variation_id" bigint NOT NULL,
	"sku" text,
	"price" numeric,
	"quantity" integer,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "product_variations_store_id_product_id_variation_id_pk" PRIMARY KEY("store_id","product_id","variation_id")
);
--> statement-breakpoint
CREATE TABLE "products" (
	"store_id" bigint NOT NULL,
	"product_id" bigint NOT NULL,
	"sku" text,
	"name" text,
	"price" numeric,
	"quantity" integer,
	"unlimited" boolean,
	"in_stock" boolean,
	"enabled" boolean,
	"product_type_id" bigint,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "products_store_id_product_id_pk" PRIMARY KEY("store_id","product_id")
);
--> statement-breakpoint
CREATE TABLE "promotions" (
	"store_id" bigint NOT NULL,
	"promotion_id" bigint NOT NULL,
	"name" text,
	"enabled" boolean,
	"discount_type" text,
	"amount" numeric,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "promotions_store_id_promotion_id_pk" PRIMARY KEY("store_id","promotion_id")
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"store_id" bigint NOT NULL,
	"review_id" bigint NOT NULL,
	"product_id" bigint,
	"order_id" text,
	"customer_id" bigint,
	"rating" integer,
	"status" text,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "reviews_store_id_review_id_pk" PRIMARY KEY("store_id","review_id")
);
--> statement-breakpoint
CREATE TABLE "store_profiles" (
	"store_id" bigint PRIMARY KEY NOT NULL,
	"store_name" text,
	"store_url" text,
	"currency" text,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stores" (
	"store_id" bigint PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"installed_at" timestamp with time zone,
	"uninstalled_at" timestamp with time zone,
	"doc" jsonb NOT NULL,
	"deleted_at" timestamp with time zone,
	"source_position" bigint NOT NULL,
	"synced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"store_id" bigint NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "backfill_state" (
	"store_id" bigint NOT NULL,
	"entity" text NOT NULL,
	"updated_from" timestamp with time zone,
	"offset" integer DEFAULT 0 NOT NULL,
	"watermark" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"details" jsonb,
	CONSTRAINT "backfill_state_store_id_entity_pk" PRIMARY KEY("store_id","entity")
);
--> statement-breakpoint
CREATE TABLE "consumer_checkpoints" (
	"name" text PRIMARY KEY NOT NULL,
	"position" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrichment_state" (
	"store_id" bigint PRIMARY KEY NOT NULL,
	"position" bigint DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"last_error" text,
	"retry_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "parked_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"store_id" bigint NOT NULL,
	"position" bigint NOT NULL,
	"entity_kind" text,
	"entity_id" text,
	"error" text NOT NULL,
	"attempts" integer NOT NULL,
	"parked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "store_tokens" (
	"store_id" bigint PRIMARY KEY NOT NULL,
	"token" text NOT NULL,
	"source" text DEFAULT 'cli' NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "abandoned_carts_store_updated_idx" ON "abandoned_carts" USING btree ("store_id","updated_at");--> statement-breakpoint
CREATE INDEX "abandoned_carts_store_created_idx" ON "abandoned_carts" USING btree ("store_id","created_at");--> statement-breakpoint
CREATE INDEX "customers_store_email_idx" ON "customers" USING btree ("store_id","email");--> statement-breakpoint
CREATE INDEX "customers_store_updated_idx" ON "customers" USING btree ("store_id","updated_at");--> statement-breakpoint
CREATE INDEX "discount_coupons_store_code_idx" ON "discount_coupons" USING btree ("store_id","code");--> statement-breakpoint
CREATE INDEX "order_items_store_product_idx" ON "order_items" USING btree ("store_id","product_id");--> statement-breakpoint
CREATE INDEX "orders_store_updated_idx" ON "orders" USING btree ("store_id","updated_at");--> statement-breakpoint
CREATE INDEX "orders_store_created_idx" ON "orders" USING btree ("store_id","created_at");--> statement-breakpoint
CREATE INDEX "orders_store_internal_idx" ON "orders" USING btree ("store_id","internal_id");--> statement-breakpoint
CREATE INDEX "orders_store_customer_idx" ON "orders" USING btree ("store_id","customer_id");--> statement-breakpoint
CREATE INDEX "orders_store_email_idx" ON "orders" USING btree ("store_id","email");--> statement-breakpoint
CREATE INDEX "product_categories_store_category_idx" ON "product_categories" USING btree ("store_id","category_id");--> statement-breakpoint
CREATE INDEX "products_store_updated_idx" ON "products" USING btree ("store_id","updated_at");--> statement-breakpoint
CREATE INDEX "products_store_sku_idx" ON "products" USING btree ("store_id","sku");--> statement-breakpoint
CREATE INDEX "reviews_store_product_idx" ON "reviews" USING btree ("store_id","product_id");--> statement-breakpoint
CREATE UNIQUE INDEX "parked_events_position_uq" ON "parked_events" USING btree ("position");--> statement-breakpoint
CREATE INDEX "parked_events_open_idx" ON "parked_events" USING btree ("store_id") WHERE "parked_events"."resolved_at" is null;