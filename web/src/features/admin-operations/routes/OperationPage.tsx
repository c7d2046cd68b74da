import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { formatDate } from '@/lib/format';
import { useAdminOperation, useRetryOperation, type AdminOperationDetail } from '../api/operations';
import { useOperationNames } from '../components/names';
import '../admin-operations.css';

const SERVER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** One operation of any tenant: its steps, error, the execution's failed state and cause; retry. */
export function OperationPage() {
  const { operationId = '' } = useParams();
  const { t } = useTranslation('adminOperations');
  const operation = useAdminOperation(operationId);
  const names = useOperationNames();
  if (operation.isPending) return <Loading label={t('detail.loading')} />;
  if (operation.isError)
    return (
      <>
        <PageTitle>{t('detail.fallbackTitle')}</PageTitle>
        <ErrorAlert error={operation.error} onRetry={() => void operation.refetch()} />
        <p>
          <Link to="/admin/operations">{t('detail.back')}</Link>
        </p>
      </>
    );
  const op = operation.data;
  const type = names.type(op.type);
  return (
    <>
      <PageTitle>{t('detail.title', { type })}</PageTitle>
      <p>
        <Link to="/admin/operations">{t('detail.back')}</Link>
      </p>
      <section className="card" aria-labelledby="operation-summary">
        <h2 id="operation-summary">{t('detail.summary')}</h2>
        <dl className="stats admin-record">
          <div>
            <dt>{t('columns.status')}</dt>
            <dd>
              <span className="badge" data-status={op.status === 'succeeded' ? 'running' : op.status}>
                {t(`status.${op.status}`)}
              </span>
            </dd>
          </div>
          <div>
            <dt>{t('columns.attempt')}</dt>
            <dd>{op.attempt}</dd>
          </div>
          <div>
            <dt>{t('columns.tenant')}</dt>
            <dd>{op.tenant_id === 'platform' ? t('list.platform') : <Link to={`/admin/tenants/${op.tenant_id}`}>{op.tenant_id}</Link>}</dd>
          </div>
          <div>
            <dt>{t('columns.target')}</dt>
            <dd>{op.target && SERVER_UUID.test(op.target) ? <Link to={`/admin/servers/${op.target}`}>{op.target}</Link> : <code>{op.target ?? '–'}</code>}</dd>
          </div>
          <div>
            <dt>{t('columns.created')}</dt>
            <dd>{formatDate(op.created_at)}</dd>
          </div>
          <div>
            <dt>{t('columns.updated')}</dt>
            <dd>{formatDate(op.updated_at)}</dd>
          </div>
        </dl>
        <p>
          {t('columns.id')} <code>{op.id}</code>
        </p>
      </section>
      <Steps op={op} />
      {op.status === 'failed' && <Failure op={op} />}
      <Retry op={op} />
    </>
  );
}

function Steps({ op }: { op: AdminOperationDetail }) {
  const { t } = useTranslation('adminOperations');
  const names = useOperationNames();
  return (
    <section className="card" aria-labelledby="operation-steps">
      <h2 id="operation-steps">{t('detail.steps')}</h2>
      <ol className="steps">
        {op.steps.map((step) => (
          <li key={step.name}>
            <strong>{names.step(step.name)}</strong>{' '}
            <span className="badge" data-status={step.status === 'succeeded' ? 'running' : step.status}>
              {t(`stepStatus.${step.status}`)}
            </span>
            {step.finished_at && <span className="muted"> {formatDate(step.finished_at)}</span>}
            {step.detail && <p className="muted">{step.detail}</p>}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Failure({ op }: { op: AdminOperationDetail }) {
  const { t } = useTranslation('adminOperations');
  const names = useOperationNames();
  return (
    <section className="card" aria-labelledby="operation-failure">
      <h2 id="operation-failure">{t('detail.failure')}</h2>
      {op.error && (
        <>
          <p>{names.error(op.error)}</p>
          <p className="muted">
            <code>{op.error.code}</code> {op.error.message}
          </p>
        </>
      )}
      {op.failure ? (
        <>
        <dl className="stats admin-record">
          <div>
            <dt>{t('detail.failedState')}</dt>
            <dd>
              <code>{op.failure.state}</code>
            </dd>
          </div>
          <div>
            <dt>{t('detail.failedError')}</dt>
            <dd>
              <code>{op.failure.error}</code>
            </dd>
          </div>
        </dl>
        <h3>{t('detail.failedCause')}</h3>
        <p>{op.failure.cause}</p>
        </>
      ) : (
        <p className="muted">{t('detail.noExecution')}</p>
      )}
    </section>
  );
}

function Retry({ op }: { op: AdminOperationDetail }) {
  const { t } = useTranslation('adminOperations');
  const retry = useRetryOperation(op.id);
  if (op.status !== 'failed' && !retry.isSuccess) return null;
  return (
    <section className="card" aria-labelledby="operation-retry">
      <h2 id="operation-retry">{t('retry.title')}</h2>
      {retry.error && <ErrorAlert error={retry.error} />}
      {retry.isSuccess && op.status !== 'failed' && <Notice tone="success">{t('retry.started', { attempt: retry.data.attempt })}</Notice>}
      {op.status === 'failed' &&
        (op.retryable ? (
          <>
            <p>{t(op.type === 'provision_server' ? 'retry.provisionBody' : 'retry.body')}</p>
            <button type="button" className="button" disabled={retry.isPending} onClick={() => retry.mutate()}>
              {t('retry.action')}
            </button>
          </>
        ) : (
          <p id="retry-refusal">{t('retry.refused', { reason: op.retry_refusal ?? '' })}</p>
        ))}
    </section>
  );
}
