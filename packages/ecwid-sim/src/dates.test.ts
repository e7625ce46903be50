import { expect, it } from 'vitest';
import { formatEcwidDate, parseEcwidDate } from './dates.ts';

it('formats and parses the date forms Ecwid uses', () => {
  expect(formatEcwidDate(1725434784)).toBe('2024-09-04 07:26:24 +0000');
  expect(parseEcwidDate('1725434784')).toBe(1725434784);
  expect(parseEcwidDate('2024-09-04 07:26:24 +0000')).toBe(1725434784);
  expect(parseEcwidDate('2024-09-04 09:26:24 +0200')).toBe(1725434784);
  expect(parseEcwidDate('2024-09-04 07:26:24')).toBe(1725434784);
  expect(parseEcwidDate('2024-09-04')).toBe(1725408000);
  expect(parseEcwidDate('yesterday')).toBeUndefined();
});
