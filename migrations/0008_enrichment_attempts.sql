-- Failed fetches per entity, counted in the database so a restarted or second worker goes on
-- counting towards parking instead of starting again at zero.
CREATE TABLE "enrichment_attempts" (
	"store_id" bigint NOT NULL,
	"entity_key" text NOT NULL,
	"attempts" integer NOT NULL,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrichment_attempts_store_id_entity_key_pk" PRIMARY KEY("store_id","entity_key")
);
