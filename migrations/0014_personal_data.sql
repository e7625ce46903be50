CREATE TABLE "erased_subjects" (
	"store_id" bigint NOT NULL,
	"subject_hash" text NOT NULL,
	"request_id" bigint NOT NULL,
	"erased_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "erased_subjects_store_id_subject_hash_pk" PRIMARY KEY("store_id","subject_hash")
);
--> statement-breakpoint
CREATE TABLE "mirror_keys" (
	"name" text PRIMARY KEY NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "personal_data_export_parts" (
	"store_id" bigint NOT NULL,
	"request_id" bigint NOT NULL,
	"part" integer NOT NULL,
	"items" jsonb NOT NULL,
	CONSTRAINT "personal_data_export_parts_store_id_request_id_part_pk" PRIMARY KEY("store_id","request_id","part")
);
--> statement-breakpoint
CREATE TABLE "personal_data_requests" (
	"store_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "personal_data_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"scope" text NOT NULL,
	"source" text NOT NULL,
	"subject_customer_id" bigint,
	"subject_email" text,
	"subject_hashes" text[] DEFAULT '{}'::text[] NOT NULL,
	"requested_position" bigint,
	"status" text DEFAULT 'received' NOT NULL,
	"reason" text,
	"progress" jsonb,
	"counts" jsonb,
	"export_parts" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "personal_data_requests_store_id_id_pk" PRIMARY KEY("store_id","id")
);
--> statement-breakpoint
ALTER TABLE "event_log" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "personal_data_requests_position_uq" ON "personal_data_requests" USING btree ("requested_position");--> statement-breakpoint
CREATE INDEX "personal_data_requests_status_idx" ON "personal_data_requests" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "abandoned_carts_store_customer_idx" ON "abandoned_carts" USING btree ("store_id","customer_id");--> statement-breakpoint
CREATE INDEX "abandoned_carts_store_lower_email_idx" ON "abandoned_carts" USING btree ("store_id",lower("email"));--> statement-breakpoint
CREATE INDEX "customers_store_lower_email_idx" ON "customers" USING btree ("store_id",lower("email"));--> statement-breakpoint
CREATE INDEX "orders_store_lower_email_idx" ON "orders" USING btree ("store_id",lower("email"));--> statement-breakpoint
CREATE INDEX "reviews_store_customer_idx" ON "reviews" USING btree ("store_id","customer_id");--> statement-breakpoint
CREATE INDEX "reviews_store_reviewer_email_idx" ON "reviews" USING btree ("store_id",lower("doc" -> 'reviewerInfo' ->> 'email'));--> statement-breakpoint
-- The log stays append-only with one sanctioned exception: personal-data erasure may rewrite a
-- record's payload (and mark it erased_at), and nothing else about it, and only in a transaction
-- that says so with `set local mirror.erasure = 'on'` (docs/decisions/0007-erasure-rewrites-the-log.md).
-- DELETE and TRUNCATE stay forbidden.
CREATE OR REPLACE FUNCTION event_log_forbid_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('mirror.erasure', true) = 'on'
     AND (to_jsonb(NEW) - 'payload' - 'erased_at') = (to_jsonb(OLD) - 'payload' - 'erased_at')
     AND NEW.erased_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'event_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
