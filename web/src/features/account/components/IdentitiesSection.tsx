import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { useProviders } from '@/features/auth/api/oauth';
import { formatDate } from '@/lib/format';
import { useIdentities, useLinkIdentity, useUnlinkIdentity, type Identity } from '../api/identities';

/** The providers that sign in to this account: each with its email and use, remove one, link another. */
export function IdentitiesSection() {
  const { t } = useTranslation('oauth');
  const identities = useIdentities();
  const providers = useProviders();
  const link = useLinkIdentity();
  const unlink = useUnlinkIdentity();
  const [asking, setAsking] = useState<Identity | null>(null);
  const nameOf = (id: string) => providers.data?.find((p) => p.id === id)?.name ?? id;
  const items = identities.data ?? [];
  const linkable = (providers.data ?? []).filter((p) => !items.some((i) => i.provider === p.id));
  if (!providers.data?.length && !items.length) return null;
  return (
    <section className="card" aria-labelledby="identities-heading">
      <h2 id="identities-heading">{t('identities.title')}</h2>
      <p>{t('identities.body')}</p>
      {identities.isPending ? (
        <Loading />
      ) : identities.isError ? (
        <ErrorAlert error={identities.error} onRetry={() => void identities.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{t('identities.empty')}</Empty>
      ) : (
        <>
          {unlink.isError && <ErrorAlert error={unlink.error} />}
          {unlink.isSuccess && <Notice tone="success">{t('identities.removed')}</Notice>}
          <table>
            <caption className="visually-hidden">{t('identities.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('identities.provider')}</th>
                <th scope="col">{t('identities.email')}</th>
                <th scope="col">{t('identities.linked')}</th>
                <th scope="col">{t('identities.lastUsed')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('identities.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.id}>
                  <th scope="row">{nameOf(i.provider)}</th>
                  <td>{i.email ?? '—'}</td>
                  <td>{formatDate(i.created_at)}</td>
                  <td>{i.last_used_at ? formatDate(i.last_used_at) : t('identities.never')}</td>
                  <td>
                    <button
                      type="button"
                      className="button"
                      data-variant="secondary"
                      aria-label={t('identities.removeNamed', { provider: nameOf(i.provider) })}
                      onClick={() => setAsking(i)}
                    >
                      {t('identities.remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {link.isError && <ErrorAlert error={link.error} />}
      {linkable.length > 0 && (
        <ul className="button-row" role="list">
          {linkable.map((p) => (
            <li key={p.id}>
              <button type="button" className="button" data-variant="secondary" disabled={link.isPending} onClick={() => link.mutate(p.id)}>
                {t('identities.link', { provider: p.name })}
              </button>
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        isOpen={asking !== null}
        title={t('identities.confirmTitle')}
        confirmLabel={t('identities.remove')}
        danger
        busy={unlink.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() => asking && unlink.mutate(asking.id, { onSettled: () => setAsking(null) })}
      >
        <p>{asking && t('identities.confirmBody', { provider: nameOf(asking.provider), email: asking.email ?? '—' })}</p>
      </ConfirmDialog>
    </section>
  );
}
