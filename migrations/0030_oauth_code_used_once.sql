ALTER TABLE "oauth_states" ADD COLUMN "code_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "oauth_states_code_hash_key" ON "oauth_states" USING btree ("code_hash");