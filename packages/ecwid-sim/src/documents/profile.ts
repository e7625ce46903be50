import type { Faker } from '@faker-js/faker';
import { formatEcwidDate } from '../dates.ts';
import type { SimMoney } from './money.ts';

/** `GET /profile`: the parts of the store profile a mirror keeps (docs/ecwid.md §4.5). */
export type SimProfile = {
  generalInfo: {
    storeId: number;
    storeUrl: string;
    starterSite: { ecwidSubdomain: string; generatedUrl: string };
    websitePlatform: string;
  };
  account: {
    accountName: string;
    accountNickName: string;
    accountEmail: string;
    availableFeatures: string[];
  };
  settings: {
    closed: boolean;
    storeName: string;
    storeDescription: string;
    googleAnalyticsId: string;
    orderCommentsEnabled: boolean;
  };
  company: {
    companyName: string;
    email: string;
    street: string;
    city: string;
    countryCode: string;
    postalCode: string;
    stateOrProvinceCode: string;
    phone: string;
  };
  formatsAndUnits: {
    currency: string;
    currencyPrefix: string;
    currencySuffix: string;
    weightUnit: string;
    dimensionsUnit: string;
    timezone: string;
    dateFormat: string;
    timeFormat: string;
  };
  languages: { enabledLanguages: string[]; defaultLanguage: string };
  taxSettings: {
    automaticTaxEnabled: boolean;
    pricesIncludeTax: boolean;
    taxes: { id: number; name: string; enabled: boolean; defaultTax: number }[];
  };
};

export function makeProfile(faker: Faker, storeId: number, money: SimMoney): SimProfile {
  const storeName = `${faker.company.name()} Store`;
  return {
    generalInfo: {
      storeId,
      storeUrl: `https://store${storeId}.company.site`,
      starterSite: {
        ecwidSubdomain: `store${storeId}`,
        generatedUrl: `https://store${storeId}.company.site`,
      },
      websitePlatform: 'instantsite',
    },
    account: {
      accountName: faker.person.fullName(),
      accountNickName: faker.internet.username(),
      accountEmail: faker.internet.email().toLowerCase(),
      availableFeatures: ['API', 'PRODUCT_REVIEWS', 'CUSTOMER_GROUPS', 'DISCOUNT_COUPONS'],
    },
    settings: {
      closed: false,
      storeName,
      storeDescription: '',
      googleAnalyticsId: '',
      orderCommentsEnabled: true,
    },
    company: {
      companyName: storeName,
      email: faker.internet.email().toLowerCase(),
      street: faker.location.streetAddress(),
      city: faker.location.city(),
      countryCode: 'US',
      postalCode: faker.location.zipCode('#####'),
      stateOrProvinceCode: 'CA',
      phone: faker.phone.number({ style: 'national' }),
    },
    formatsAndUnits: {
      currency: money.currency,
      currencyPrefix: money.currencyPrefix,
      currencySuffix: money.currencySuffix,
      weightUnit: 'KILOGRAM',
      dimensionsUnit: 'CM',
      timezone: money.timezone,
      dateFormat: 'MMM d, yyyy',
      timeFormat: 'hh:mm:ss a',
    },
    languages: { enabledLanguages: ['en'], defaultLanguage: 'en' },
    taxSettings: {
      automaticTaxEnabled: false,
      pricesIncludeTax: money.pricesIncludeTax,
      taxes: [{ id: 1, name: 'Sales tax', enabled: true, defaultTax: Math.round(money.taxRate * 10000) / 100 }],
    },
  };
}

/** `GET /application` (examples/application-status-legacy.json). */
export type SimApplication = {
  subscription: {
    startDate: string;
    expirationDate: string;
    status: 'ACTIVE' | 'SUSPENDED' | 'TRIAL';
  };
  subscriptionStatus: 'ACTIVE' | 'SUSPENDED' | 'TRIAL';
};

export function makeApplication(installedAt: number): SimApplication {
  return {
    subscription: {
      startDate: formatEcwidDate(installedAt),
      expirationDate: formatEcwidDate(installedAt + 365 * 86_400),
      status: 'ACTIVE',
    },
    subscriptionStatus: 'ACTIVE',
  };
}

/** The store's money settings, as its profile states them now. */
export function moneyOf(profile: SimProfile): SimMoney {
  const { currency, currencyPrefix, currencySuffix, timezone } = profile.formatsAndUnits;
  const rate = (profile.taxSettings.taxes.find((tax) => tax.enabled)?.defaultTax ?? 0) / 100;
  return { currency, currencyPrefix, currencySuffix, timezone, pricesIncludeTax: profile.taxSettings.pricesIncludeTax, taxRate: rate };
}
