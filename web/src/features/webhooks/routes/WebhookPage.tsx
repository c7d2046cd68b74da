import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Pager } from '@/components/Pager';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { denied, useCan } from '@/features/roles/api/can';
import { fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import {
  useDeliveries,
  useRedeliver,
  useRotateSecret,
  useSendTest,
  useUpdateWebhook,
  useWebhook,
  useWebhooks,
  type DeliveryAttempt,
  type Webhook,
} from '../api/webhooks';
import { EventPicker } from '../components/EventPicker';
import { SecretShown } from '../components/SecretShown';
import { StatusBadge } from '../components/StatusBadge';

/** One webhook: its settings, "send test", a new secret, and its delivery log. */
export function WebhookPage() {
  const { tenantId = '', webhookId = '' } = useParams();
  const { t } = useTranslation('webhooks');
  const webhook = useWebhook(tenantId, webhookId);
  const manage = !denied(useCan(tenantId), 'webhooks.manage');
  return (
    <>
      <PageTitle title={t('detailTitle')}>{webhook.data?.url ?? t('detailTitle')}</PageTitle>
      <p>
        <Link to={`/t/${tenantId}/webhooks`}>{t('back')}</Link>
      </p>
      {webhook.isPending ? (
        <Loading label={t('loading')} />
      ) : webhook.isError ? (
        <ErrorAlert error={webhook.error} onRetry={() => void webhook.refetch()} />
      ) : (
        <>
          <Settings tenantId={tenantId} webhook={webhook.data} manage={manage} />
          <DeliveryLog tenantId={tenantId} webhook={webhook.data} manage={manage} />
        </>
      )}
    </>
  );
}

function Settings({ tenantId, webhook, manage }: { tenantId: string; webhook: Webhook; manage: boolean }) {
  const { t } = useTranslation('webhooks');
  const list = useWebhooks(tenantId);
  const update = useUpdateWebhook(tenantId);
  const rotate = useRotateSecret(tenantId);
  const [editing, setEditing] = useState(false);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState(webhook.description);
  const [events, setEvents] = useState<string[]>(webhook.events);
  const [secret, setSecret] = useState<string | null>(null);
  const errors = fieldErrors(update.error, t);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate(
      { webhookId: webhook.id, events, description: description.trim(), ...(url.trim() ? { url: url.trim() } : {}) },
      { onSuccess: () => setEditing(false) },
    );
  };
  return (
    <section className="card" aria-labelledby="webhook-settings">
      <h2 id="webhook-settings">{t('settings.title')}</h2>
      <dl>
        <dt>{t('columns.status')}</dt>
        <dd>
          <StatusBadge webhook={webhook} />
        </dd>
        <dt>{t('settings.format')}</dt>
        <dd>{webhook.kind === 'discord' ? t('discord') : t('json')}</dd>
        <dt>{t('settings.secret')}</dt>
        <dd>
          <code>whsec_…{webhook.secret_hint}</code>
        </dd>
        <dt>{t('columns.events')}</dt>
        <dd>{webhook.events.map((e) => t(`events.${e.replace('.', '_')}`, { defaultValue: e })).join(', ')}</dd>
      </dl>
      {webhook.disabled_reason === 'failing' && <Notice tone="warning">{t('settings.disabledFailing')}</Notice>}
      {secret && <SecretShown secret={secret} onDone={() => setSecret(null)} />}
      {(update.isError || rotate.isError) && Object.keys(errors).length === 0 && <ErrorAlert error={update.error ?? rotate.error} />}
      <div className="button-row">
        <button
          type="button"
          className="button"
          disabled={!manage || update.isPending}
          onClick={() => update.mutate({ webhookId: webhook.id, enabled: !webhook.enabled })}
        >
          {webhook.enabled ? t('settings.disable') : t('settings.enable')}
        </button>
        <button type="button" className="button" data-variant="secondary" disabled={!manage} onClick={() => setEditing(!editing)}>
          {t('settings.edit')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={!manage || rotate.isPending}
          onClick={() => rotate.mutate(webhook.id, { onSuccess: (reply) => setSecret(reply.secret) })}
        >
          {t('settings.rotate')}
        </button>
      </div>
      {editing && list.data && (
        <form onSubmit={submit} noValidate aria-label={t('settings.edit')}>
          <TextField
            label={t('form.newUrl')}
            hint={t('form.newUrlHint')}
            type="url"
            maxLength={2048}
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            error={errors.url}
          />
          <TextField label={t('form.description')} maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} error={errors.description} />
          <h3>{t('form.events')}</h3>
          <EventPicker types={list.data.event_types} selected={events} onChange={setEvents} error={errors.events} />
          <div className="button-row">
            <button type="submit" className="button" disabled={update.isPending || events.length === 0}>
              {t('form.save')}
            </button>
            <button type="button" className="button" data-variant="secondary" onClick={() => setEditing(false)}>
              {t('common:actions.cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function DeliveryLog({ tenantId, webhook, manage }: { tenantId: string; webhook: Webhook; manage: boolean }) {
  const { t } = useTranslation('webhooks');
  const test = useSendTest(tenantId);
  const redeliver = useRedeliver(tenantId, webhook.id);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [liveUntil, setLiveUntil] = useState(0);
  const cursor = cursors[cursors.length - 1];
  const deliveries = useDeliveries(tenantId, webhook.id, cursor, Date.now() < liveUntil);
  const retrying = deliveries.data?.items.some((a) => a.outcome === 'retrying') ?? false;
  // Poll for a minute after a test (the schedule sends it within one), and while anything waits for a retry.
  useEffect(() => {
    if (retrying) setLiveUntil((until) => Math.max(until, Date.now() + 60_000));
  }, [retrying]);
  return (
    <section className="card" aria-labelledby="webhook-deliveries">
      <h2 id="webhook-deliveries">{t('log.title')}</h2>
      <p className="muted">{t('log.intro')}</p>
      <div className="button-row">
        <button
          type="button"
          className="button"
          disabled={!manage || test.isPending}
          onClick={() =>
            test.mutate(webhook.id, {
              onSuccess: () => {
                setCursors([undefined]);
                setLiveUntil(Date.now() + 60_000);
              },
            })
          }
        >
          {t('test.send')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={() => void deliveries.refetch()}>
          {t('log.refresh')}
        </button>
      </div>
      {test.isError && <ErrorAlert error={test.error} />}
      {redeliver.isError && <ErrorAlert error={redeliver.error} />}
      {(test.isSuccess || redeliver.isSuccess) && <Notice tone="info">{t('test.queuedHere')}</Notice>}
      {deliveries.isPending ? (
        <Loading label={t('log.loading')} />
      ) : deliveries.isError ? (
        <ErrorAlert error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      ) : deliveries.data.items.length === 0 ? (
        <Empty>{t('log.empty')}</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('log.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('log.at')}</th>
                <th scope="col">{t('log.event')}</th>
                <th scope="col">{t('log.attempt')}</th>
                <th scope="col">{t('log.outcome')}</th>
                <th scope="col">{t('log.status')}</th>
                <th scope="col">{t('log.duration')}</th>
                <th scope="col">{t('log.response')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.items.map((a, index) => (
                <AttemptRow
                  key={`${a.delivery_id}-${a.attempt}-${a.at}`}
                  attempt={a}
                  // The newest attempt of an ended delivery may be sent again (failed, or delivered).
                  onRedeliver={
                    manage && a.outcome !== 'retrying' && deliveries.data.items.findIndex((b) => b.delivery_id === a.delivery_id) === index
                      ? () =>
                          redeliver.mutate(a.delivery_id, {
                            onSuccess: () => {
                              setCursors([undefined]);
                              setLiveUntil(Date.now() + 60_000);
                            },
                          })
                      : undefined
                  }
                  busy={redeliver.isPending}
                />
              ))}
            </tbody>
          </table>
          <Pager cursors={cursors} next={deliveries.data.next_cursor} onChange={setCursors} />
        </>
      )}
    </section>
  );
}

function AttemptRow({ attempt, onRedeliver, busy }: { attempt: DeliveryAttempt; onRedeliver: (() => void) | undefined; busy: boolean }) {
  const { t } = useTranslation('webhooks');
  const error = attempt.error ? t(`log.errors.${attempt.error.split(':', 1)[0]}`, { defaultValue: attempt.error }) : null;
  return (
    <tr>
      <td>{formatDate(attempt.at)}</td>
      <td>
        {t(`events.${attempt.event_type.replace('.', '_')}`, { defaultValue: attempt.event_type })}
        <div className="muted">
          <code>{attempt.event_id}</code>
        </div>
      </td>
      <td>{attempt.attempt}</td>
      <td>
        {t(`log.outcomes.${attempt.outcome}`)}
        {attempt.next_attempt_at && <div className="muted">{t('log.nextAt', { when: formatDate(attempt.next_attempt_at) })}</div>}
      </td>
      <td>{attempt.status_code ?? error ?? '–'}</td>
      <td>{t('log.ms', { ms: attempt.duration_ms })}</td>
      <td>
        {attempt.response_excerpt ? (
          <details>
            <summary>{t('log.show')}</summary>
            <pre>{attempt.response_excerpt}</pre>
          </details>
        ) : (
          '–'
        )}
      </td>
      <td>
        {onRedeliver && (
          <button
            type="button"
            className="button"
            data-variant="secondary"
            aria-label={t('log.redeliverNamed', { event: attempt.event_id })}
            disabled={busy}
            onClick={onRedeliver}
          >
            {t('log.redeliver')}
          </button>
        )}
      </td>
    </tr>
  );
}
