import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixturesDir } from '@mirror/ecwid/testing';
import { describe, expect, it } from 'vitest';
import { erasePayload, identifyingStrings, identifyingStringsOf, scrub, stringMatcher, subjectOf } from './redact.ts';

/* What erasure does to the documentation's own customer and order, field by field, written out by hand. */

const text = (name: string) => readFileSync(`${fixturesDir}${name}`, 'utf8');
const pseudonym = (email: string) => `erased-${email.length}@erased.invalid`;

describe('erasing a document', () => {
  it("the documentation's order: who is erased, what was sold stays, every digit kept", () => {
    const order = text('order.json');
    const strings = identifyingStringsOf(order);
    // The order's own identifying strings: email, the billing person's name, company, street, postal code and phone.
    expect(strings).toEqual(
      expect.arrayContaining([
        'ec.apps@lightspeedhq.com',
        'API Team',
        'Support',
        'Team',
        'Ecwid API Team',
        'Anhalter Strasse 98',
        '08003',
        '0123456789',
      ]),
    );
    expect(strings).not.toContain('Niederhausen An Der Appel'); // the city stays (reports by place)
    const erased = erasePayload(order, { person: true, matcher: stringMatcher(strings), pseudonym })!;
    const doc = JSON.parse(erased) as Record<string, any>;
    expect(doc.email).toBe('erased-24@erased.invalid');
    expect(doc.billingPerson).toEqual({
      name: '[erased]',
      firstName: '[erased]',
      lastName: '[erased]',
      companyName: '[erased]',
      street: '[erased]',
      city: 'Niederhausen An Der Appel',
      countryCode: 'ES',
      countryName: 'Spain',
      postalCode: '[erased]',
      stateOrProvinceCode: 'AL',
      stateOrProvinceName: 'Alava',
      phone: '[erased]',
    });
    expect(doc.ipAddress).toBe('[erased]');
    expect(doc.customerUserAgent).toBe('[erased]');
    expect(doc.additionalInfo).toEqual({});
    // Business facts: totals, items, statuses, dates.
    expect(doc.total).toBe(10);
    expect(doc.tax).toBe(0.91);
    expect(doc.paymentStatus).toBe('PAID');
    expect(doc.items[0].name).toBe('Toys');
    expect(doc.items[0].priceWithoutTax).toBe(9.09);
    expect(doc.createDate).toBe(JSON.parse(order).createDate);
    // Nothing identifying is left anywhere in the text, in any case.
    for (const s of ['ec.apps@lightspeedhq.com', 'anhalter strasse', '0123456789', 'api team', '80.241.251.10']) {
      expect(erased.toLowerCase()).not.toContain(s);
    }
  });

  it('erasing an erased document changes nothing: the pseudonym stays, no second one', () => {
    // Shaped as subject-key.ts prints them: 16 characters of a keyed hash.
    const keyed = (email: string) =>
      `erased-${createHash('sha256').update(email).digest('base64url').slice(0, 16).toLowerCase()}@erased.invalid`;
    const once = erasePayload(text('order.json'), {
      person: true,
      matcher: stringMatcher(identifyingStringsOf(text('order.json'))),
      pseudonym: keyed,
    })!;
    expect(JSON.parse(once).email).toBe(keyed('ec.apps@lightspeedhq.com'));
    expect(identifyingStringsOf(once)).not.toContain(keyed('ec.apps@lightspeedhq.com'));
    expect(erasePayload(once, { person: true, matcher: stringMatcher(identifyingStringsOf(once)), pseudonym: keyed })).toBeUndefined();
  });

  it("a review's reviewer keeps their country, as an address does", () => {
    const review = JSON.stringify({
      id: 7,
      customerId: 5,
      reviewerInfo: { name: 'Jo Doe', email: 'jo@example.com', city: 'Austin', country: 'United States' },
    });
    const strings = identifyingStringsOf(review);
    expect(strings.sort()).toEqual(['Jo Doe', 'jo@example.com']);
    const erased = JSON.parse(erasePayload(review, { person: true, matcher: stringMatcher(strings), pseudonym })!);
    expect(erased.reviewerInfo).toEqual({ name: '[erased]', email: pseudonym('jo@example.com'), city: 'Austin', country: 'United States' });
  });

  it('keeps numbers exactly as written (lossless)', () => {
    const doc = '{"email":"a@b.co","total":10.10,"big":12345678901234567890,"tiny":1e-7,"items":[{"price":3.30}]}';
    expect(erasePayload(doc, { person: true, matcher: undefined, pseudonym })).toBe(
      '{"email":"erased-6@erased.invalid","total":10.10,"big":12345678901234567890,"tiny":1e-7,"items":[{"price":3.30}]}',
    );
  });

  it("the documentation's customer: contacts emptied, name and billing person erased", () => {
    const customer = text('customer.json');
    const erased = JSON.parse(erasePayload(customer, { person: true, matcher: stringMatcher(identifyingStringsOf(customer)), pseudonym })!);
    expect(erased).toMatchObject({
      id: 177737165,
      name: '[erased]',
      email: 'erased-24@erased.invalid',
      billingPerson: { name: '[erased]', firstName: '[erased]', lastName: '[erased]' },
      contacts: [],
      customerGroupId: 0,
      stats: { numberOfOrders: 0, salesValue: 0 },
    });
    expect(JSON.stringify(erased).toLowerCase()).not.toContain('support team');
  });

  it('a webhook body is only scrubbed of the strings given, never of its structure', () => {
    const matcher = stringMatcher(['Jane.Doe@Example.com']);
    expect(
      scrub({ eventType: 'customer.personalDataRemovalRequest', entityId: 5, data: { email: 'jane.doe@example.com' } }, matcher),
    ).toEqual({
      eventType: 'customer.personalDataRemovalRequest',
      entityId: 5,
      data: { email: '[erased]' },
    });
    expect(erasePayload('{"a":1}', { person: false, matcher, pseudonym })).toBeUndefined();
  });

  it('says whom a document is about: the customer id (never 0) and its emails', () => {
    // The documentation's order names another customer id than its customer record: one person, two ids.
    expect(subjectOf('order', text('order.json'))).toEqual({ customerIds: [270919557], emails: ['ec.apps@lightspeedhq.com'] });
    expect(subjectOf('customer', text('customer.json'))).toEqual({ customerIds: [177737165], emails: ['ec.apps@lightspeedhq.com'] });
    expect(subjectOf('order', '{"customerId":0,"email":" Guest@Shop.io "}')).toEqual({ customerIds: [], emails: ['guest@shop.io'] });
    expect(identifyingStrings({ billingPerson: { phone: '+1 (555) 010-0199' } })).toEqual(['+1 (555) 010-0199', '15550100199']);
  });
});

describe('erasing a person whose name is a common word', () => {
  // Eli Sand of Elizabeth, NJ: a short first name and a last name that are parts of other words.
  const order = JSON.stringify({
    id: 'ELI01',
    email: 'eli.sand@example.com',
    paymentStatus: 'PARTIALLY_REFUNDED',
    fulfillmentStatus: 'DELIVERED',
    total: 10,
    items: [
      {
        name: 'Deli Sandwich Tray',
        sku: 'ELI-TRAY',
        selectedOptions: [{ name: 'Message', value: 'Happy birthday Eli! From Sand family' }],
      },
      { name: 'Tia Maria', sku: 'TIA' },
    ],
    billingPerson: {
      name: 'Eli Sand',
      firstName: 'Eli',
      lastName: 'Sand',
      city: 'Elizabeth',
      street: '1 Main St',
      phone: '+1 555 010 0199',
    },
    orderComments: 'Please call Eli on 15550100199, or eli.sand@example.com',
    customerUserAgent: 'Mozilla',
  });

  it('erases the name where it is a word, never inside another word, a status, a place or what was sold', () => {
    const strings = identifyingStringsOf(order);
    expect(strings).toEqual(expect.arrayContaining(['Eli', 'Sand', 'Eli Sand']));
    const doc = JSON.parse(erasePayload(order, { person: true, matcher: stringMatcher(strings), pseudonym })!) as Record<string, any>;
    expect(doc.paymentStatus).toBe('PARTIALLY_REFUNDED');
    expect(doc.fulfillmentStatus).toBe('DELIVERED');
    expect(doc.items[0].name).toBe('Deli Sandwich Tray');
    expect(doc.items[0].sku).toBe('ELI-TRAY');
    expect(doc.items[1].name).toBe('Tia Maria');
    // What the customer typed on the line is theirs: the name goes, the words around it stay.
    expect(doc.items[0].selectedOptions[0]).toEqual({ name: 'Message', value: 'Happy birthday [erased]! From [erased] family' });
    expect(doc.billingPerson.city).toBe('Elizabeth');
    expect(doc.billingPerson.firstName).toBe('[erased]');
    expect(doc.orderComments).toBe('[erased]');
  });

  it("leaves the store's own words on the order alone: coupon, payment and shipping method, fees, taxes, group", () => {
    // Sarah Cash, who ships by Deutsche Post: a first name inside a coupon code, surnames that
    // are payment and carrier words. Reports group by these (coupon_usage, payment_method).
    const facts = {
      paymentMethod: 'Cash on delivery',
      paymentModule: 'CashOnDelivery',
      customerGroup: 'Sarah fans',
      discountCoupon: { code: 'SARAH20', name: 'Sarah influencer code' },
      shippingOption: { shippingMethodName: 'Deutsche Post', shippingCarrierName: 'Post' },
      handlingFee: { name: 'Cash handling', description: 'Cash fee' },
      customSurcharges: [{ id: 's', description: 'Post surcharge' }],
      discountInfo: [{ description: 'Sarah loyalty discount' }],
      taxesOnShipping: [{ name: 'Post tax' }],
    };
    const withFacts = JSON.stringify({
      id: 'SC001',
      email: 'sarah.cash@example.org',
      ...facts,
      items: [{ name: 'Mug', taxes: [{ name: 'Cash tax' }], selectedOptions: [{ name: 'Engraving', value: 'For Sarah Cash' }] }],
      billingPerson: { name: 'Sarah Cash', firstName: 'Sarah', lastName: 'Cash' },
      orderComments: 'Sarah will pay in cash',
    });
    const matcher = stringMatcher([...identifyingStringsOf(withFacts), 'Post']);
    const doc = JSON.parse(erasePayload(withFacts, { person: true, matcher, pseudonym })!) as Record<string, any>;
    expect(doc).toMatchObject(facts);
    expect(doc.items[0].taxes).toEqual([{ name: 'Cash tax' }]);
    // What the customer wrote is still theirs.
    expect(doc.items[0].selectedOptions[0].value).toBe('For [erased]');
    expect(doc.billingPerson.name).toBe('[erased]');
  });

  it('still finds the name, the email and the phone digits inside free text', () => {
    const matcher = stringMatcher(['Eli', 'Sand', 'eli.sand@example.com', '15550100199']);
    expect(scrub({ note: "Eli's order, for ELI SAND (eli.sand@example.com), +15550100199; also eli1985" }, matcher)).toEqual({
      note: "[erased]'s order, for [erased] [erased] ([erased]), +[erased]; also [erased]1985",
    });
    // Inside other words it is not the name.
    expect(scrub({ note: 'Delivered a sandwich to Elizabeth' }, matcher)).toEqual({ note: 'Delivered a sandwich to Elizabeth' });
  });
});
