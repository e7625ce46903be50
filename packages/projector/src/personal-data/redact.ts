import { isLosslessNumber, parse, stringify } from 'lossless-json';

/*
 * What erasure does to one document (docs/personal-data.md). Documents are read and written as
 * JSON text through lossless-json, so numbers keep every digit and nothing but personal data
 * changes. Two steps, both pure:
 * 1. fields: in a document about the subject (a customer, an order, an abandoned cart, a
 *    review), the fields that identify a person are erased: contact and address objects keep only
 *    their country, state and city; emails become a pseudonym that is the same for the same email
 *    (so reports by customer still add up) and tells nothing; notes and tracking data are emptied.
 * 2. strings: every string anywhere in the record (item options, shipment notes, a webhook's
 *    data) that contains one of the subject's identifying strings (email, name, phone, street, …,
 *    any case, as a word: stringMatcher) has it replaced, except business facts (scrub).
 * Business facts stay: ids, totals, items, dates, statuses.
 */

export const ERASED = '[erased]';

/** Kinds whose documents are about a person. */
export const personKinds = ['customer', 'order', 'abandoned_cart', 'review'] as const;
export type PersonKind = (typeof personKinds)[number];
export const isPersonKind = (kind: string | null | undefined): kind is PersonKind =>
  (personKinds as readonly string[]).includes(kind ?? '');

type Json = unknown;
type Obj = Record<string, Json>;
const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);

/** Objects that describe a person or an address (Ecwid's billingPerson, shippingPerson, …). */
const personObjects = new Set(['billingPerson', 'shippingPerson', 'reviewerInfo', 'person']);
/** Arrays of such objects. */
const personArrays = new Set(['shippingAddresses']);
/** Where a person is, roughly, not who: what a person object keeps. */
const placeFields = [
  'countryCode',
  'countryName',
  // A review's reviewerInfo names the country in full: kept as the others are. Taken for an
  // identifying string, "United States" was erased from every document of the subject.
  'country',
  'stateOrProvinceCode',
  'stateOrProvinceName',
  'city',
];
/** What a person object keeps: its place, and what is not about the person. */
const keptInPerson = new Set([...placeFields, 'orders', 'id', 'defaultAddress', 'orderBy']);
/** Top-level fields of a person's document that identify them, and what they become. */
const emptied: Record<string, () => Json> = {
  contacts: () => [],
  additionalInfo: () => ({}),
  extraFields: () => ({}),
  utmDataSets: () => [],
  paymentParams: () => ({}),
};
const erasedFields = new Set([
  'name',
  'firstName',
  'lastName',
  'companyName',
  'phone',
  'ipAddress',
  'customerUserAgent',
  'customerTaxId',
  'customerFiscalCode',
  'taxId',
  'fiscalCode',
  'electronicInvoicePecEmail',
  'electronicInvoiceSdiCode',
  'orderComments',
  'privateAdminNotes',
]);
const emailFields = new Set(['email']);

export type Pseudonym = (email: string) => string;

/**
 * An email erasure already replaced (subject-key.ts prints them). It is not erased again, so a
 * document erased twice (reconcile compares Ecwid's documents erased, then appends them, and
 * the append erases) is the document erased once: another pseudonym would make the row differ
 * from Ecwid's document as the mirror keeps it at every run, and split one customer's rows
 * between two pseudonyms.
 */
export const isPseudonym = (s: string) => /^erased-[a-z0-9_-]{16}@erased\.invalid$/.test(s);
const pseudonymOnce = (pseudonym: Pseudonym, email: string) => (email === '' || isPseudonym(email) ? email : pseudonym(email));

/** The identifying strings of a document: what must not survive anywhere once it is erased. */
export function identifyingStrings(doc: Json): string[] {
  const found = new Set<string>();
  const add = (v: Json, min = 3) => {
    if (typeof v !== 'string') return;
    const s = v.trim();
    if (s.length >= min && s !== ERASED && !isPseudonym(s)) found.add(s);
  };
  const person = (p: Json) => {
    if (!isObj(p)) return;
    for (const [key, value] of Object.entries(p)) {
      if (keptInPerson.has(key)) continue;
      if (key === 'phone' && typeof value === 'string') addPhone(value, found);
      else if (key === 'postalCode') add(value, 5);
      else add(value);
    }
  };
  if (!isObj(doc)) return [];
  for (const [key, value] of Object.entries(doc)) {
    if (emailFields.has(key) || erasedFields.has(key)) {
      if (key === 'phone' && typeof value === 'string') addPhone(value, found);
      else if (key !== 'customerUserAgent') add(value);
    } else if (personObjects.has(key)) person(value);
    else if (personArrays.has(key) && Array.isArray(value)) value.forEach(person);
    else if (key === 'contacts' && Array.isArray(value)) for (const c of value) if (isObj(c)) add(c.contact);
  }
  return [...found];
}

function addPhone(phone: string, into: Set<string>): void {
  const trimmed = phone.trim();
  if (trimmed.length >= 5) into.add(trimmed);
  // The same number written another way ("+1 (555) 010-0199" and "15550100199").
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length >= 6) into.add(digits);
}

/** The strings a matcher replaces: long enough to identify, never a pseudonym (it identifies no one). */
export const matchableStrings = (strings: Iterable<string>): string[] => [
  ...new Set([...strings].map((s) => s.trim()).filter((s) => s.length >= 3 && !isPseudonym(s.toLowerCase()))),
];

/**
 * Case-insensitive replacement of every identifying string, longest first. A string that begins
 * (ends) with a letter matches only where no letter comes before (after) it: a name is a word,
 * not a run of letters inside another word. Matched anywhere, a first name "Eli" turned an
 * order's `DELIVERED` into `D[erased]VERED` and its "Deli Sandwich Tray" into
 * "D[erased]wich Tray", and "Tia" a `PARTIALLY_REFUNDED` status into one reports no longer knew.
 * Digits still match inside longer digit runs (a phone written with or without its country code).
 */
export function stringMatcher(strings: Iterable<string>): RegExp | undefined {
  const list = matchableStrings(strings).sort((a, b) => b.length - a.length);
  if (list.length === 0) return undefined;
  const letter = /^\p{L}$/u;
  const pattern = (s: string) =>
    (letter.test(s[0]!) ? '(?<!\\p{L})' : '') + s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + (letter.test(s.at(-1)!) ? '(?!\\p{L})' : '');
  return new RegExp(list.map(pattern).join('|'), 'giu');
}

/**
 * Fields step 2 leaves alone wherever they are, with all they hold:
 * - statuses (closed sets of Ecwid's words, which reports filter on);
 * - where a person is, roughly (step 1 keeps it; docs/personal-data.md);
 * - the store's own words on an order or a cart, which tables and reports group by: its coupon,
 *   payment and shipping methods, fees, surcharges, discounts, taxes and the customer group.
 *   A customer named Sarah Cash had turned coupon SARAH20 into `[erased]20` (a second row in
 *   coupon_usage) and "Cash on delivery" into "[erased] on delivery".
 */
const neverScrubbed = new Set([
  'paymentStatus',
  'fulfillmentStatus',
  'status',
  ...placeFields,
  'paymentMethod',
  'paymentModule',
  'customerGroup',
  'discountCoupon',
  'shippingOption',
  'handlingFee',
  'customSurcharges',
  'discountInfo',
  'taxesOnShipping',
  'taxes',
]);
/** Fields of an order's or a cart's line that name what was sold, not who bought it. */
const lineFacts = new Set(['name', 'nameTranslated', 'sku', 'shortDescription']);

/**
 * Every string in `value` with the matched strings replaced (the same structure otherwise),
 * except the business facts above: a customer named like a product or a town does not rename it.
 */
export function scrub(value: Json, matcher: RegExp | undefined, key?: string): Json {
  if (!matcher) return value;
  if (typeof value === 'string') return value.replace(matcher, ERASED);
  if (Array.isArray(value)) {
    if (key !== 'items') return value.map((v) => scrub(v, matcher));
    return value.map((line) =>
      isObj(line)
        ? Object.fromEntries(Object.entries(line).map(([k, v]) => [k, lineFacts.has(k) || neverScrubbed.has(k) ? v : scrub(v, matcher, k)]))
        : scrub(line, matcher),
    );
  }
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, neverScrubbed.has(k) ? v : scrub(v, matcher, k)]));
  return value;
}

/** Step 1: a person's document with the fields that identify them erased. */
export function eraseFields(doc: Json, pseudonym: Pseudonym): Json {
  if (!isObj(doc)) return doc;
  const erasePerson = (p: Json): Json => {
    if (!isObj(p)) return p;
    return Object.fromEntries(
      Object.entries(p).map(([key, value]) => {
        if (keptInPerson.has(key) || value === null || typeof value === 'boolean' || isLosslessNumber(value)) return [key, value];
        if (key === 'email' && typeof value === 'string') return [key, pseudonymOnce(pseudonym, value)];
        return [key, typeof value === 'string' ? (value === '' ? value : ERASED) : null];
      }),
    );
  };
  return Object.fromEntries(
    Object.entries(doc).map(([key, value]) => {
      if (emailFields.has(key) && typeof value === 'string') return [key, pseudonymOnce(pseudonym, value)];
      if (erasedFields.has(key) && typeof value === 'string' && value !== '') return [key, ERASED];
      if (key in emptied && value !== null && value !== undefined) return [key, emptied[key]!()];
      if (personObjects.has(key)) return [key, erasePerson(value)];
      if (personArrays.has(key) && Array.isArray(value)) return [key, value.map(erasePerson)];
      return [key, value];
    }),
  );
}

/** Both steps on a record's payload as JSON text; undefined when nothing changed. */
export function erasePayload(
  text: string,
  options: { person: boolean; matcher: RegExp | undefined; pseudonym: Pseudonym },
): string | undefined {
  const doc = parse(text);
  const fieldsErased = options.person ? eraseFields(doc, options.pseudonym) : doc;
  const out = stringify(scrub(fieldsErased, options.matcher)) ?? text;
  return out === stringify(doc) ? undefined : out;
}

/** The identifying strings of a record's payload (JSON text). */
export const identifyingStringsOf = (text: string): string[] => identifyingStrings(parse(text));

/** Who a person's document is about: its customer id (0 and absent are nobody) and emails. */
export function subjectOf(kind: PersonKind, text: string): { customerIds: number[]; emails: string[] } {
  const doc = parse(text);
  if (!isObj(doc)) return { customerIds: [], emails: [] };
  const ids = new Set<number>();
  const emails = new Set<string>();
  const id = (v: Json) => {
    const n = isLosslessNumber(v) ? Number(v.toString()) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
    if (n !== undefined && n > 0) ids.add(n);
  };
  const email = (v: Json) => {
    if (typeof v === 'string' && v.includes('@')) emails.add(v.trim().toLowerCase());
  };
  id(kind === 'customer' ? doc.id : doc.customerId);
  email(doc.email);
  if (isObj(doc.reviewerInfo)) email(doc.reviewerInfo.email);
  if (isObj(doc.billingPerson)) email(doc.billingPerson.email);
  return { customerIds: [...ids], emails: [...emails] };
}
