import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { ApiError, describeError } from '@/lib/errors';
import { useOperation, useResources, useServer } from '../api/servers';
import { StatusBadge } from '../components/StatusBadge';

const MARK: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '…',
  pending: '○',
  skipped: '–',
  compensated: '↺',
};

/** Follows a create operation step by step until the server runs, or says what failed and where. */
export function Progress() {
  const { t, i18n } = useTranslation();
  const { tenantId = '', serverId = '', operationId = '' } = useParams();
  const operation = useOperation(tenantId, operationId);
  const server = useServer(tenantId, serverId);
  const succeeded = operation.data?.status === 'succeeded';
  // Started on completion: the node reports running a moment after the last step.
  const resources = useResources(tenantId, serverId, (state) => state !== 'running' && state !== 'offline', succeeded);
  const stepName = (name: string) => (i18n.exists(`servers:steps.${name}`) ? t(`servers:steps.${name}`) : name);

  if (operation.isPending) return <Loading />;
  if (operation.isError) return <ErrorAlert error={operation.error} onRetry={() => operation.refetch()} />;
  const op = operation.data;
  const failedStep = op.steps.find((s) => s.status === 'failed');
  const done = op.status === 'succeeded';
  const live = resources.data?.state;
  const running = live === 'running' || server.data?.status === 'running';
  const starting = done && !running && live !== 'offline';

  return (
    <>
      <PageTitle>{t('servers:Progress.title')}</PageTitle>
      {server.data && (
        <p>
          {t('servers:progress.server', { name: server.data.name })} <StatusBadge status={live ?? server.data.status} />
        </p>
      )}
      <ol className="steps" aria-label={t('servers:progress.steps')}>
        {op.steps.map((step) => (
          <li key={step.name}>
            <span aria-hidden="true">{MARK[step.status] ?? '○'} </span>
            {stepName(step.name)} — <StatusBadge status={step.status} />
            {step.detail && <span className="muted"> ({step.detail})</span>}
          </li>
        ))}
      </ol>
      <div aria-live="polite">
        {op.status === 'failed' && (
          <Notice tone="error">
            <p>
              {failedStep
                ? t('servers:progress.failedAt', { step: stepName(failedStep.name) })
                : t('servers:progress.failed')}{' '}
              {op.error && describeError(new ApiError(0, op.error.code, op.error.message), t)}
            </p>
            {op.error?.message && <p className="muted">{t('servers:progress.details', { message: op.error.message })}</p>}
            <p>{t('servers:progress.whatNow')}</p>
            <Link to={`/t/${tenantId}/servers/new`}>{t('servers:progress.tryAgain')}</Link>
          </Notice>
        )}
        {starting && <Loading label={t('servers:progress.starting')} />}
        {done && !starting && (
          <Notice tone="success">
            <p>{running ? t('servers:progress.running') : t('servers:progress.done')}</p>
            <Link className="button" to={`/t/${tenantId}/servers/${serverId}`}>
              {t('servers:progress.open')}
            </Link>
          </Notice>
        )}
        {!done && op.status !== 'failed' && <Loading label={t('servers:progress.working')} />}
      </div>
    </>
  );
}
