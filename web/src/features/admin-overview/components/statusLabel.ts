import type { i18n as I18n } from 'i18next';

/**
 * A status as a word of the user's language. The API counts whatever statuses the records have,
 * so one the app has no word for yet is shown as the API spells it rather than as a missing key.
 */
export function statusLabel(i18n: I18n, prefix: string, status: string): string {
  const key = `${prefix}.${status}`;
  return i18n.exists(key) ? i18n.t(key) : status;
}
