CREATE TABLE "event_log" (
	"position" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "event_log_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"store_id" bigint NOT NULL,
	"event_id" text,
	"event_type" text NOT NULL,
	"entity_kind" text,
	"entity_id" text,
	"is_known_type" boolean NOT NULL,
	"event_created_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb NOT NULL,
	"caused_by" bigint[],
	"fetched_at" timestamp with time zone,
	CONSTRAINT "event_log_kind_ck" CHECK ("event_log"."kind" in ('webhook', 'snapshot', 'tombstone')),
	CONSTRAINT "event_log_webhook_id_ck" CHECK ("event_log"."kind" <> 'webhook' or "event_log"."event_id" is not null)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "event_log_store_event_uq" ON "event_log" USING btree ("store_id","event_id");--> statement-breakpoint
CREATE INDEX "event_log_store_position_idx" ON "event_log" USING btree ("store_id","position");--> statement-breakpoint
CREATE INDEX "event_log_entity_idx" ON "event_log" USING btree ("store_id","entity_kind","entity_id","position");