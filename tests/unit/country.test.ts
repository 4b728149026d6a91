import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES, isCountryCode } from '../../core/country.js';

describe('ISO 3166-1 alpha-2 country codes', () => {
  it('lists exactly the 249 officially assigned codes, each two uppercase letters', () => {
    expect(COUNTRY_CODES.size).toBe(249);
    for (const code of COUNTRY_CODES) expect(code).toMatch(/^[A-Z]{2}$/);
  });

  it('lists only codes that name a real region', () => {
    const regions = new Intl.DisplayNames(['en'], { type: 'region' });
    const unnamed = [...COUNTRY_CODES].filter((code) => {
      const name = regions.of(code);
      return name === undefined || name === code || name === 'Unknown Region';
    });
    expect(unnamed).toEqual([]);
  });

  it('accepts assigned codes such as US, NG, DE, GB, AX, SS and BQ', () => {
    for (const code of ['US', 'NG', 'DE', 'GB', 'AX', 'SS', 'BQ']) expect(isCountryCode(code)).toBe(true);
  });

  it('refuses user-assigned, reserved and withdrawn codes, lowercase and other lengths', () => {
    for (const code of ['ZZ', 'XK', 'XA', 'AA', 'QM', 'EU', 'UK', 'EA', 'AN', 'YU', 'CS', 'SU', 'us', 'Us', 'USA', 'U', '']) expect(isCountryCode(code)).toBe(false);
  });
});
