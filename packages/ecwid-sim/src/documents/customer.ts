import type { Faker } from '@faker-js/faker';
import { formatEcwidDate } from '../dates.ts';
import type { IdSource } from '../store/id-source.ts';
import { makeEmail, makePerson, type SimPerson } from './person.ts';

/** `GET /customer_groups/{id}`; group 0 is the built-in "General". */
export type SimCustomerGroup = { id: number; name: string; externalReferenceId?: string };

export function makeCustomerGroup(faker: Faker, nextId: IdSource): SimCustomerGroup {
  return {
    id: nextId('customerGroup'),
    name: `${faker.word.adjective()} buyers`,
    externalReferenceId: faker.string.alphanumeric(6),
  };
}

/** Shaped like examples/customer.json: `registered`/`updated` strings, no numeric timestamp. */
export type SimCustomer = {
  id: number;
  name: string;
  email: string;
  registered: string;
  updated: string;
  customerGroupId: number;
  customerGroupName: string;
  billingPerson: SimPerson;
  shippingAddresses: (SimPerson & { id: number; defaultAddress: boolean; orderBy: number })[];
  contacts: {
    id: number;
    contact: string;
    type: 'EMAIL';
    default: boolean;
    orderBy: number;
    timestamp: string;
  }[];
  taxExempt: boolean;
  taxId: string;
  taxIdValid: boolean;
  b2b_b2c: 'b2c' | 'b2b';
  fiscalCode: string;
  electronicInvoicePecEmail: string;
  electronicInvoiceSdiCode: string;
  acceptMarketing: boolean;
  stats: {
    numberOfOrders: number;
    salesValue: number;
    averageOrderValue: number;
    firstOrderDate?: string;
    lastOrderDate?: string;
  };
  privateAdminNotes: string;
  favorites: number[];
};

export function makeCustomer(faker: Faker, nextId: IdSource, input: { registeredAt: number; group: SimCustomerGroup }): SimCustomer {
  const person = makePerson(faker);
  const email = makeEmail(faker, person);
  const date = formatEcwidDate(input.registeredAt);
  return {
    id: nextId('customer'),
    name: person.name,
    email,
    registered: date,
    updated: date,
    customerGroupId: input.group.id,
    customerGroupName: input.group.name,
    billingPerson: person,
    shippingAddresses: [{ ...person, id: nextId('contact'), defaultAddress: true, orderBy: 0 }],
    contacts: [
      {
        id: nextId('contact'),
        contact: email,
        type: 'EMAIL',
        default: true,
        orderBy: 0,
        timestamp: date,
      },
    ],
    taxExempt: false,
    taxId: '',
    taxIdValid: true,
    b2b_b2c: 'b2c',
    fiscalCode: '',
    electronicInvoicePecEmail: '',
    electronicInvoiceSdiCode: '',
    acceptMarketing: faker.datatype.boolean(0.4),
    stats: { numberOfOrders: 0, salesValue: 0, averageOrderValue: 0 },
    privateAdminNotes: '',
    favorites: [],
  };
}

/** Folds one placed order into the customer's `stats`. */
export function addOrderToStats(customer: SimCustomer, order: { total: number; createDate: string }): void {
  const stats = customer.stats;
  stats.numberOfOrders++;
  stats.salesValue = Math.round((stats.salesValue + order.total) * 100) / 100;
  stats.averageOrderValue = Math.round((stats.salesValue / stats.numberOfOrders) * 100) / 100;
  stats.firstOrderDate ??= order.createDate;
  stats.lastOrderDate = order.createDate;
}
