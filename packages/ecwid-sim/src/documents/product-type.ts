import type { Faker } from '@faker-js/faker';
import type { IdSource } from '../store/id-source.ts';

export type SimAttribute = {
  id: number;
  name: string;
  type: 'CUSTOM' | 'UPC' | 'BRAND';
  show: 'DESCR' | 'NOTSHOW';
};

/** `GET /classes/{id}` (docs/ecwid.md §4.5); id 0 is the built-in "General" type. */
export type SimProductType = {
  id: number;
  name: string;
  googleTaxonomy: string;
  attributes: SimAttribute[];
};

export function makeGeneralProductType(): SimProductType {
  return {
    id: 0,
    name: 'General',
    googleTaxonomy: '',
    attributes: [
      { id: 1, name: 'UPC', type: 'UPC', show: 'DESCR' },
      { id: 2, name: 'Brand', type: 'BRAND', show: 'DESCR' },
    ],
  };
}

export function makeProductType(faker: Faker, nextId: IdSource): SimProductType {
  const name = faker.commerce.department();
  return {
    id: nextId('productType'),
    name,
    googleTaxonomy: `${name} > ${faker.commerce.productAdjective()}`,
    attributes: faker.helpers.arrayElements(['Material', 'Color', 'Origin', 'Care'], { min: 1, max: 3 }).map((attribute) => ({
      id: nextId('attribute'),
      name: attribute,
      type: 'CUSTOM',
      show: 'DESCR',
    })),
  };
}
