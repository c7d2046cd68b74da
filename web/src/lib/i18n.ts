/**
 * i18next with one JSON file per feature and language (src/locales/<lng>/<namespace>.json), so
 * features add strings without editing a shared file. A missing key is recorded on
 * `window.__i18nMissing` (the browser tests fail on any) and warned about in development.
 */
import i18n from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { initReactI18next } from 'react-i18next';

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

type Bundle = Record<string, unknown>;
const files = import.meta.glob<Bundle>('../locales/*/*.json', { eager: true, import: 'default' });

export const resources: Record<string, Record<string, Bundle>> = {};
for (const [path, bundle] of Object.entries(files)) {
  const match = /locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!match) continue;
  const [, lng, ns] = match as unknown as [string, string, string];
  (resources[lng] ??= {})[ns] = bundle;
}
export const namespaces = Object.keys(resources.en ?? {});

declare global {
  interface Window {
    __i18nMissing?: string[];
  }
}

// Registered before init: the detected language is set during init (screen readers read <html lang>).
i18n.on('languageChanged', (lng) => {
  if (typeof document !== 'undefined') document.documentElement.lang = lng.slice(0, 2);
});

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources,
    ns: namespaces,
    defaultNS: 'common',
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    nonExplicitSupportedLngs: true,
    interpolation: { escapeValue: false }, // React escapes
    returnEmptyString: false,
    saveMissing: true,
    missingKeyHandler: (lngs, ns, key) => {
      const entry = `${lngs.join(',')}:${ns}:${key}`;
      if (typeof window !== 'undefined') (window.__i18nMissing ??= []).push(entry);
      if (import.meta.env.DEV) console.warn('missing translation', entry);
    },
    detection: {
      // ?lng=de wins (links and tests), then the user's choice, then the browser.
      order: ['querystring', 'localStorage', 'navigator'],
      lookupQuerystring: 'lng',
      lookupLocalStorage: 'mamba.language',
      caches: ['localStorage'],
    },
    react: { useSuspense: false },
  });

export default i18n;
