/**
 * A store's money settings: its currency and time zone (profile `formatsAndUnits`) and how it
 * taxes (`taxSettings`): one flat rate, prices with or without it. Chosen per store so a
 * simulator with several stores has several currencies, time zones and tax modes.
 */
export type SimMoney = {
  currency: string;
  currencyPrefix: string;
  currencySuffix: string;
  timezone: string;
  /** Item prices, shipping and handling include the tax (`pricesIncludeTax`). */
  pricesIncludeTax: boolean;
  /** The one tax rate, as a fraction (0.15 for 15 %). */
  taxRate: number;
};

/** One per store, by seed: tax-exclusive and tax-inclusive, and one time zone 13 hours ahead of UTC. */
export const moneyPresets: readonly SimMoney[] = [
  { currency: 'USD', currencyPrefix: '$', currencySuffix: '', timezone: 'America/New_York', pricesIncludeTax: false, taxRate: 0.1 },
  { currency: 'NZD', currencyPrefix: 'NZ$', currencySuffix: '', timezone: 'Pacific/Auckland', pricesIncludeTax: true, taxRate: 0.15 },
  { currency: 'EUR', currencyPrefix: '', currencySuffix: ' €', timezone: 'Europe/Berlin', pricesIncludeTax: true, taxRate: 0.19 },
  { currency: 'CAD', currencyPrefix: 'C$', currencySuffix: '', timezone: 'America/Vancouver', pricesIncludeTax: false, taxRate: 0.05 },
];

export const moneyForSeed = (seed: number): SimMoney => moneyPresets[Math.abs(seed) % moneyPresets.length]!;

/** Cents, as Ecwid rounds money. */
export const roundMoney = (value: number) => Math.round(value * 100) / 100;
