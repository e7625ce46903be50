import type { Faker } from '@faker-js/faker';

export type SimPerson = {
  name: string;
  firstName: string;
  lastName: string;
  companyName: string;
  street: string;
  city: string;
  countryCode: string;
  countryName: string;
  postalCode: string;
  stateOrProvinceCode: string;
  stateOrProvinceName: string;
  phone: string;
};

const states = [
  ['CA', 'California'],
  ['NY', 'New York'],
  ['TX', 'Texas'],
  ['WA', 'Washington'],
  ['IL', 'Illinois'],
] as const;

export function makePerson(faker: Faker): SimPerson {
  const firstName = faker.person.firstName();
  const lastName = faker.person.lastName();
  const [code, name] = faker.helpers.arrayElement(states);
  return {
    name: `${firstName} ${lastName}`,
    firstName,
    lastName,
    companyName: faker.datatype.boolean(0.2) ? faker.company.name() : '',
    street: faker.location.streetAddress(),
    city: faker.location.city(),
    countryCode: 'US',
    countryName: 'United States',
    postalCode: faker.location.zipCode('#####'),
    stateOrProvinceCode: code,
    stateOrProvinceName: name,
    phone: faker.phone.number({ style: 'national' }),
  };
}

export function makeEmail(faker: Faker, person: { firstName: string; lastName: string }): string {
  return faker.internet.email({ firstName: person.firstName, lastName: person.lastName }).toLowerCase();
}
