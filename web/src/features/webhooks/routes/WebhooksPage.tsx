import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { denied, useCan } from '@/features/roles/api/can';
import { fieldErrors } from '@/lib/errors';
import { useCreateWebhook, useDeleteWebhook, useSendTest, useWebhooks, type Webhook } from '../api/webhooks';
import { EventPicker } from '../components/EventPicker';
import { SecretShown } from '../components/SecretShown';
import { StatusBadge } from '../components/StatusBadge';

/** The tenant's outgoing webhooks: the list with "send test", and the form to add one. */
export function WebhooksPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('webhooks');
  const webhooks = useWebhooks(tenantId);
  const remove = useDeleteWebhook(tenantId);
  const test = useSendTest(tenantId);
  const can = useCan(tenantId);
  const manage = !denied(can, 'webhooks.manage');
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [tested, setTested] = useState<Webhook | null>(null);

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p className="muted">{t('intro')}</p>
      {webhooks.isPending ? (
        <Loading label={t('loading')} />
      ) : webhooks.isError ? (
        <ErrorAlert error={webhooks.error} onRetry={() => void webhooks.refetch()} />
      ) : (
        <>
          {remove.isError && <ErrorAlert error={remove.error} />}
          {test.isError && <ErrorAlert error={test.error} />}
          {tested && test.isSuccess && (
            <Notice tone="info">
              {t('test.queued')} <Link to={`/t/${tenantId}/webhooks/${tested.id}`}>{t('test.seeLog')}</Link>
            </Notice>
          )}
          {webhooks.data.items.length === 0 ? (
            <Empty>{t('empty')}</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('columns.url')}</th>
                  <th scope="col">{t('columns.events')}</th>
                  <th scope="col">{t('columns.status')}</th>
                  <th scope="col">{t('columns.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {webhooks.data.items.map((w) => (
                  <tr key={w.id}>
                    <th scope="row">
                      <Link to={`/t/${tenantId}/webhooks/${w.id}`}>{w.url}</Link>
                      {w.kind === 'discord' && (
                        <>
                          {' '}
                          <span className="badge">{t('discord')}</span>
                        </>
                      )}
                      {w.description && <div className="muted">{w.description}</div>}
                    </th>
                    <td>{t('eventCount', { count: w.events.length })}</td>
                    <td>
                      <StatusBadge webhook={w} />
                    </td>
                    <td>
                      <div className="button-row">
                        <button
                          type="button"
                          className="button"
                          data-variant="secondary"
                          aria-label={t('test.sendNamed', { url: w.url })}
                          disabled={!manage || test.isPending}
                          onClick={() => {
                            setTested(w);
                            test.mutate(w.id);
                          }}
                        >
                          {t('test.send')}
                        </button>
                        <button
                          type="button"
                          className="button"
                          data-variant="danger"
                          aria-label={t('deleteNamed', { url: w.url })}
                          disabled={!manage}
                          onClick={() => setDeleting(w)}
                        >
                          {t('delete')}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {manage ? (
            webhooks.data.items.length < webhooks.data.limit ? (
              <CreateWebhook tenantId={tenantId} types={webhooks.data.event_types} />
            ) : (
              <p className="hint">{t('limitReached', { limit: webhooks.data.limit })}</p>
            )
          ) : (
            <p className="hint">{t('permissions:denied', { permission: 'webhooks.manage' })}</p>
          )}
        </>
      )}
      <ConfirmDialog
        isOpen={deleting !== null}
        title={t('deleteTitle')}
        confirmLabel={t('delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSettled: () => setDeleting(null) })}
      >
        <p>{t('deleteBody', { url: deleting?.url ?? '' })}</p>
      </ConfirmDialog>
    </>
  );
}

function CreateWebhook({ tenantId, types }: { tenantId: string; types: string[] }) {
  const { t } = useTranslation('webhooks');
  const create = useCreateWebhook(tenantId);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>(types.filter((type) => type.endsWith('.failed')));
  const [secret, setSecret] = useState<string | null>(null);
  const errors = fieldErrors(create.error, t);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSecret(null);
    create.mutate(
      { url: url.trim(), events, enabled: true, description: description.trim() || null },
      {
        onSuccess: (reply) => {
          setSecret(reply.secret);
          setUrl('');
          setDescription('');
        },
      },
    );
  };
  return (
    <>
      {secret && <SecretShown secret={secret} onDone={() => setSecret(null)} />}
      <form className="card" onSubmit={submit} noValidate aria-labelledby="webhook-create-heading">
        <h2 id="webhook-create-heading">{t('form.createTitle')}</h2>
        <TextField
          label={t('form.url')}
          hint={t('form.urlHint')}
          type="url"
          required
          maxLength={2048}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          error={errors.url}
        />
        <TextField label={t('form.description')} maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} error={errors.description} />
        <h3>{t('form.events')}</h3>
        <EventPicker types={types} selected={events} onChange={setEvents} error={errors.events} />
        {create.isError && Object.keys(errors).length === 0 && <ErrorAlert error={create.error} />}
        <button type="submit" className="button" disabled={create.isPending || !url.trim() || events.length === 0}>
          {t('form.create')}
        </button>
      </form>
    </>
  );
}
