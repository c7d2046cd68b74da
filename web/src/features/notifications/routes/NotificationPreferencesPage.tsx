import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { LANGUAGES } from '@/lib/i18n';
import { usePreferences, useUpdatePreferences, type Preferences } from '../api/notifications';
import '../components/notifications.css';

type Channels = Record<string, { in_app: boolean; email: boolean }>;

/** Per event type, in-app and email on or off; the language of the notification mails. */
export function NotificationPreferencesPage() {
  const { t } = useTranslation('notifications');
  const prefs = usePreferences();
  return (
    <>
      <PageTitle>{t('preferences.title')}</PageTitle>
      <p>
        <Link to="/account">{t('preferences.back')}</Link>
      </p>
      <p>{t('preferences.intro')}</p>
      {prefs.isPending ? (
        <Loading />
      ) : prefs.isError ? (
        <ErrorAlert error={prefs.error} onRetry={() => void prefs.refetch()} />
      ) : (
        <PreferencesForm prefs={prefs.data} />
      )}
    </>
  );
}

function PreferencesForm({ prefs }: { prefs: Preferences }) {
  const { t } = useTranslation('notifications');
  const update = useUpdatePreferences();
  const [language, setLanguage] = useState<string>(prefs.language);
  const [channels, setChannels] = useState<Channels>(() =>
    Object.fromEntries(prefs.events.map((e) => [e.type, { in_app: e.channels.in_app, email: e.channels.email }])),
  );
  const errors = fieldErrors(update.error, t);
  const toggle = (type: string, channel: 'in_app' | 'email', on: boolean) =>
    setChannels((current) => ({ ...current, [type]: { ...current[type]!, [channel]: on } }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // The language counts as chosen only when the user changed it (or had chosen before).
    const chosen = prefs.language_chosen || language !== prefs.language;
    update.mutate(chosen ? { language: language as 'en' | 'de', channels } : { channels });
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="preferences-heading">
      <h2 id="preferences-heading">{t('preferences.channels')}</h2>
      <table className="preferences-table">
        <caption className="visually-hidden">{t('preferences.channels')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('preferences.event')}</th>
            <th scope="col">{t('preferences.inApp')}</th>
            <th scope="col">{t('preferences.email')}</th>
          </tr>
        </thead>
        <tbody>
          {prefs.events.map((e) => {
            const name = t(`types.${e.type}.name`, { defaultValue: e.summary });
            return (
              <tr key={e.type}>
                <th scope="row">{name}</th>
                <td>
                  <input
                    type="checkbox"
                    aria-label={t('preferences.inAppFor', { what: name })}
                    checked={channels[e.type]?.in_app ?? false}
                    onChange={(ev) => toggle(e.type, 'in_app', ev.target.checked)}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={t('preferences.emailFor', { what: name })}
                    checked={channels[e.type]?.email ?? false}
                    onChange={(ev) => toggle(e.type, 'email', ev.target.checked)}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="field">
        <label htmlFor="mail-language">{t('preferences.language')}</label>
        <select id="mail-language" value={language} onChange={(e) => setLanguage(e.target.value)}>
          {LANGUAGES.map((lng) => (
            <option key={lng} value={lng}>
              {t(`common:language.${lng}`)}
            </option>
          ))}
        </select>
        {errors.language && <p className="field-error">{errors.language}</p>}
      </div>
      {update.isError && !errors.language && <ErrorAlert error={update.error} />}
      {update.isSuccess && <Notice tone="success">{t('preferences.saved')}</Notice>}
      <button type="submit" className="button" disabled={update.isPending}>
        {t('preferences.save')}
      </button>
    </form>
  );
}
