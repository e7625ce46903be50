-- Profile snapshots by store and position (projection's profileOf: an order's currency and time
-- zone come from the store's profile before the order's first snapshot). Without it that
-- look-up walked a store's records back to its profile, or read every earlier profile snapshot:
-- at 10M records, half a second per order of a store without a profile. Partial, so appends of
-- other records do not maintain it (docs/decisions/0015-freshness-pipelined-passes.md).
CREATE INDEX "event_log_store_profiles_idx" ON "event_log" USING btree ("store_id","position") WHERE entity_kind = 'store_profile' and kind = 'snapshot';
