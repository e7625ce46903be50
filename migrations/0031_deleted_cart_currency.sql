-- A cart the mirror only ever knew deleted (a tombstone, no snapshot) had no currency or time zone
-- when its tombstone was applied after the store's profile, while a rebuild, applying the profile
-- first, gave it the store's earliest ones: the live table and its rebuild differed. Tombstones now
-- carry them (projection's cartSpec.tombstoneColumns, as orders' do); existing rows get them here
-- by the same rule: with no snapshot of the cart, the store's earliest profile in the log.
UPDATE "abandoned_carts" c
SET "currency" = (SELECT pf.payload->'formatsAndUnits'->>'currency' FROM event_log pf
                  WHERE pf.store_id = c.store_id AND pf.entity_kind = 'store_profile' AND pf.kind = 'snapshot'
                    AND jsonb_typeof(pf.payload->'formatsAndUnits'->'currency') = 'string'
                  ORDER BY pf.position ASC LIMIT 1),
    "timezone" = public.valid_timezone(
                 (SELECT pf.payload->'formatsAndUnits'->>'timezone' FROM event_log pf
                  WHERE pf.store_id = c.store_id AND pf.entity_kind = 'store_profile' AND pf.kind = 'snapshot'
                    AND jsonb_typeof(pf.payload->'formatsAndUnits'->'timezone') = 'string'
                  ORDER BY pf.position ASC LIMIT 1))
WHERE c.deleted_at IS NOT NULL
  AND c.currency IS NULL
  AND c.timezone IS NULL
  AND NOT EXISTS (SELECT 1 FROM event_log fs
                  WHERE fs.store_id = c.store_id AND fs.entity_kind = 'abandoned_cart' AND fs.entity_id = c.cart_id AND fs.kind = 'snapshot');
