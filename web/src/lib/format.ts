/** Numbers, sizes, dates and money in the user's language (Intl, no hand-made formats). */
import i18n from './i18n';

const lang = () => i18n.resolvedLanguage ?? 'en';

export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(lang(), options).format(value);
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/** Binary sizes (1 KB = 1024 bytes, as Wings and the plans count them). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(lang(), {
    style: 'unit',
    unit: UNITS[unit],
    // Intl's short byte unit is "byte" even for many ("0 byte"); the long one says "0 bytes".
    unitDisplay: unit === 0 ? 'long' : 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

export function formatMegabytes(mb: number): string {
  return formatBytes(mb * 1024 * 1024);
}

export function formatDate(value: string | number | Date): string {
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(value));
}

export function formatMoney(minorUnits: number, currency: string): string {
  return new Intl.NumberFormat(lang(), { style: 'currency', currency: currency.toUpperCase() }).format(minorUnits / 100);
}

export function formatPercent(value: number): string {
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: 1 }).format(value) + ' %';
}
