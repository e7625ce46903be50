/*
 * Defensive casts from Ecwid's jsonb to column types, as SQL text. A malformed value becomes
 * null instead of raising, so one odd document cannot abort a batch (and stall the projection
 * forever on the same record). They are plain expressions, not functions, so the planner inlines
 * them and no migration is needed; each takes the text of a jsonb expression and may repeat it,
 * so pass a cheap one (a column of the jsonb_to_record row, or `x->'id'`).
 */

/** The jsonb value as text: strings unquoted, numbers and booleans as written, null as null. */
export const txt = (j: string) => `(${j} #>> '{}')`;

const numericText = String.raw`^\s*[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?\s*$`;

/** A JSON number, or a string holding one (`"10.5"`). */
export const num = (j: string) =>
  `(case jsonb_typeof(${j}) when 'number' then (${j})::numeric ` +
  `when 'string' then case when (${j} #>> '{}') ~ '${numericText}' then (${j} #>> '{}')::numeric end end)`;

const integer = (j: string, max: string, type: string) =>
  `(case when ${num(j)} between -${max} and ${max} and ${num(j)} = trunc(${num(j)}) then ${num(j)}::${type} end)`;

export const int4 = (j: string) => integer(j, '2147483647', 'integer');
export const int8 = (j: string) => integer(j, '9223372036854775807', 'bigint');

/** A text value that must be a bigint (entity ids in `event_log.entity_id`). */
export const textToInt8 = (t: string) => `(case when ${t} ~ '^-?[0-9]{1,18}$' then ${t}::bigint end)`;

export const bool = (j: string) =>
  `(case jsonb_typeof(${j}) when 'boolean' then (${j})::boolean ` +
  `when 'string' then case lower(${j} #>> '{}') when 'true' then true when 'false' then false end end)`;

/** UNIX seconds (`updateTimestamp`), within a sane range so `to_timestamp` cannot overflow. */
export const epoch = (j: string) => `(case when ${num(j)} between 0 and 100000000000 then to_timestamp(${num(j)}::float8) end)`;

// Ecwid's `2024-09-04 07:26:24 +0000` and ISO 8601 (`2024-09-04T07:26:24.123Z`). Ranges are
// checked by the pattern, the day against the month's length, so the cast cannot fail; a string
// without a zone is read as UTC, never in the session's time zone.
const datePattern = String.raw`^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})? ?([+-](0[0-9]|1[0-4]):?[0-5][0-9]|Z)?$`;
const zonePattern = String.raw`([+-][0-9]{2}:?[0-9]{2}|Z)$`;

/** A date-time string as timestamptz; null unless it is a valid Ecwid or ISO date-time. */
export const date = (j: string) => {
  const t = `(${j} #>> '{}')`;
  const lastDay = `extract(day from make_date(substr(${t}, 1, 4)::int, substr(${t}, 6, 2)::int, 1) + interval '1 month - 1 day')`;
  return (
    // Nested CASEs, not AND: only CASE guarantees the order of evaluation.
    `(case when jsonb_typeof(${j}) = 'string' then case when ${t} ~ '${datePattern}' then ` +
    `case when substr(${t}, 9, 2)::int <= ${lastDay} ` +
    `then (case when ${t} ~ '${zonePattern}' then ${t} else ${t} || 'Z' end)::timestamptz end end end)`
  );
};

/** A jsonb array, or null for anything else (so `jsonb_array_elements` never raises). */
export const array = (j: string) => `(case when jsonb_typeof(${j}) = 'array' then ${j} end)`;
