import { describe, expect, it } from 'vitest';

/** Every language ships complete: the same files, the same keys, no empty strings. */
const files = import.meta.glob<Record<string, unknown>>('./*/*.json', { eager: true, import: 'default' });

function keys(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

function byLanguage(lng: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(files)
      .filter(([path]) => path.startsWith(`./${lng}/`))
      .map(([path, bundle]) => [path.slice(lng.length + 3, -5), bundle]),
  );
}

const en = byLanguage('en');
const de = byLanguage('de');

describe('locales', () => {
  it('has the same namespaces in German as in English', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });

  it.each(Object.keys(en))('has every English key of %s in German, and no other', (ns) => {
    expect(keys(de[ns]).sort()).toEqual(keys(en[ns]).sort());
  });

  it.each(['en', 'de'])('has no empty string in %s', (lng) => {
    const empty = Object.entries(byLanguage(lng)).flatMap(([ns, bundle]) =>
      keys(bundle).filter((key) => {
        const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], bundle);
        return typeof value !== 'string' || value.trim() === '';
      }).map((key) => `${ns}:${key}`),
    );
    expect(empty).toEqual([]);
  });
});
