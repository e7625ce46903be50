ALTER TABLE "abandoned_carts" ADD COLUMN "currency" text;--> statement-breakpoint
ALTER TABLE "abandoned_carts" ADD COLUMN "timezone" text;--> statement-breakpoint
-- reporting.abandoned_cart_recovery took every cart's currency and day from the store's profile
-- as it is today, so a store that changed currency relabelled its old carts (a GBP cart of 30
-- showed as JPY 30, and added up with JPY carts), and a time-zone change moved them to other days.
-- A cart now keeps the currency and time zone its store had when the log first held it, as an
-- order does (decision 0009, projection's profileOf): existing carts get them here by the same
-- rule, read from the log.
UPDATE "abandoned_carts" c SET "currency" = x.currency, "timezone" = public.valid_timezone(x.timezone)
FROM (
  SELECT c2.store_id, c2.cart_id,
         coalesce(
           (SELECT pf.payload->'formatsAndUnits'->>'currency' FROM event_log pf
            WHERE pf.store_id = c2.store_id AND pf.entity_kind = 'store_profile' AND pf.kind = 'snapshot'
              AND jsonb_typeof(pf.payload->'formatsAndUnits'->'currency') = 'string' AND pf.position < f.first
            ORDER BY pf.position DESC LIMIT 1),
           (SELECT pf.payload->'formatsAndUnits'->>'currency' FROM event_log pf
            WHERE pf.store_id = c2.store_id AND pf.entity_kind = 'store_profile' AND pf.kind = 'snapshot'
              AND jsonb_typeof(pf.payload->'formatsAndUnits'->'currency') = 'string'
            ORDER BY pf.position ASC LIMIT 1)) AS currency,
         coalesce(
           (SELECT pf.payload->'formatsAndUnits'->>'timezone' FROM event_log pf
            WHERE pf.store_id = c2.store_id AND pf.entity_kind = 'store_profile' AND pf.kind = 'snapshot'
              AND jsonb_typeof(pf.payload->'formatsAndUnits'->'timezone') = 'string' AND pf.position < f.first
            ORDER BY pf.position DESC LIMIT 1),
           (SELECT pf.payload->'formatsAndUnits'->>'timezone' FROM event_log pf
            WHERE pf.store_id = c2.store_id AND pf.entity_kind = 'store_profile' AND pf.kind = 'snapshot'
              AND jsonb_typeof(pf.payload->'formatsAndUnits'->'timezone') = 'string'
            ORDER BY pf.position ASC LIMIT 1)) AS timezone
  FROM "abandoned_carts" c2
  CROSS JOIN LATERAL (
    SELECT min(fs.position) AS first FROM event_log fs
    WHERE fs.store_id = c2.store_id AND fs.entity_kind = 'abandoned_cart' AND fs.entity_id = c2.cart_id AND fs.kind = 'snapshot'
  ) f
) x
WHERE c.store_id = x.store_id AND c.cart_id = x.cart_id;
--> statement-breakpoint
CREATE OR REPLACE VIEW reporting.abandoned_cart_recovery AS
SELECT c.store_id,
       (c.created_at AT TIME ZONE coalesce(c.timezone, 'UTC'))::date AS day,
       c.currency,
       count(*)::int AS carts,
       count(c.recovered_order_id)::int AS recovered,
       round(count(c.recovered_order_id)::numeric / count(*), 4) AS recovery_rate,
       coalesce(sum(c.total), 0) AS cart_value,
       coalesce(sum(c.total) FILTER (WHERE c.recovered_order_id IS NOT NULL), 0) AS recovered_value
FROM public.abandoned_carts c
WHERE c.deleted_at IS NULL
  AND NOT coalesce(c.hidden, false)
GROUP BY 1, 2, 3;
--> statement-breakpoint
COMMENT ON VIEW reporting.abandoned_cart_recovery IS 'One row per store, cart creation day (store time zone), currency; carts neither deleted nor hidden (deleting a cart in Ecwid hides it), recovered when recovered_order_id is set. Currency and time zone: the store''s when the log first held the cart (abandoned_carts.currency, timezone).';
