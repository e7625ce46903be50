CREATE TABLE "reconcile_runs" (
	"store_id" bigint NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "reconcile_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"mode" text NOT NULL,
	"trigger" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"since" timestamp with time zone,
	"watermark" timestamp with time zone,
	"requests" integer DEFAULT 0 NOT NULL,
	"checked" integer DEFAULT 0 NOT NULL,
	"missing" integer DEFAULT 0 NOT NULL,
	"stale" integer DEFAULT 0 NOT NULL,
	"missed_deletes" integer DEFAULT 0 NOT NULL,
	"healed_tombstones" integer DEFAULT 0 NOT NULL,
	"appended" integer DEFAULT 0 NOT NULL,
	"error" text,
	"progress" jsonb,
	CONSTRAINT "reconcile_runs_store_id_id_pk" PRIMARY KEY("store_id","id")
);
--> statement-breakpoint
CREATE TABLE "reconcile_seen" (
	"store_id" bigint NOT NULL,
	"run_id" bigint NOT NULL,
	"entity_id" text NOT NULL,
	CONSTRAINT "reconcile_seen_store_id_run_id_entity_id_pk" PRIMARY KEY("store_id","run_id","entity_id")
);
--> statement-breakpoint
CREATE INDEX "reconcile_runs_store_kind_idx" ON "reconcile_runs" USING btree ("store_id","kind","started_at");