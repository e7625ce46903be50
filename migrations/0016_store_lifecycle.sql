CREATE TABLE "oauth_states" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"store_id" bigint,
	"outcome" text
);
--> statement-breakpoint
ALTER TABLE "store_tokens" ALTER COLUMN "token" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "store_tokens" ADD COLUMN "token_sealed" text;--> statement-breakpoint
ALTER TABLE "store_tokens" ADD COLUMN "token_fingerprint" text;--> statement-breakpoint
ALTER TABLE "store_tokens" ADD COLUMN "scopes" text[];--> statement-breakpoint
ALTER TABLE "store_tokens" ADD COLUMN "catch_up" text;