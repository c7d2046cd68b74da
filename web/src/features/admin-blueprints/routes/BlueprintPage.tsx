import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading } from '@/components/States';
import { downloadText } from '@/lib/csv';
import { ApiError, describeError } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { eggFilename, fetchEgg, useBlueprint, useDeleteBlueprint, type Blueprint } from '../api/blueprints';
import { BlueprintEditor } from '../components/BlueprintEditor';
import { VariablesTable } from '../components/VariablesTable';
import { BlueprintFacts } from '../components/BlueprintFacts';
import '../catalog.css';

/** One blueprint: what it runs, who uses it, export, delete (refused while servers use it), edit. */
export function BlueprintPage() {
  const { blueprintId = '' } = useParams();
  const { t } = useTranslation('adminBlueprints');
  const blueprint = useBlueprint(blueprintId);
  if (blueprint.isPending) return <Loading />;
  if (blueprint.isError) {
    return (
      <>
        <PageTitle>{t('detail.notFoundTitle')}</PageTitle>
        <ErrorAlert error={blueprint.error} onRetry={() => void blueprint.refetch()} />
        <p>
          <Link to="/admin/blueprints">{t('detail.back')}</Link>
        </p>
      </>
    );
  }
  return <BlueprintDetail key={blueprint.data.id} blueprint={blueprint.data} />;
}

function BlueprintDetail({ blueprint }: { blueprint: Blueprint }) {
  const { t } = useTranslation('adminBlueprints');
  const servers = blueprint.servers ?? 0;
  return (
    <>
      <PageTitle>{blueprint.name}</PageTitle>
      <p>
        <Link to="/admin/blueprints">{t('detail.back')}</Link>
      </p>
      <p className="muted">
        {t('detail.meta', { id: blueprint.id, created: formatDate(blueprint.created_at), updated: formatDate(blueprint.updated_at) })}
      </p>
      <Actions blueprint={blueprint} servers={servers} />
      <section className="card" aria-labelledby="runs-heading">
        <h2 id="runs-heading">{t('detail.runs')}</h2>
        <BlueprintFacts blueprint={blueprint} />
        <VariablesTable variables={blueprint.variables ?? []} caption={t('variables.caption')} />
      </section>
      <section className="card">
        <BlueprintEditor blueprint={blueprint} />
      </section>
    </>
  );
}

function Actions({ blueprint, servers }: { blueprint: Blueprint; servers: number }) {
  const { t } = useTranslation('adminBlueprints');
  const navigate = useNavigate();
  const remove = useDeleteBlueprint(blueprint.id);
  const [confirming, setConfirming] = useState(false);
  const [exported, setExported] = useState<{ busy: boolean; message: string }>({ busy: false, message: '' });
  const inUse = servers > 0;
  const refusedCount =
    remove.error instanceof ApiError && remove.error.code === 'BLUEPRINT_IN_USE' ? Number(remove.error.details.servers ?? 0) : null;

  const exportEgg = async () => {
    setExported({ busy: true, message: '' });
    try {
      const egg = await fetchEgg(blueprint.id);
      const filename = eggFilename(blueprint.name);
      downloadText(filename, `${JSON.stringify(egg, null, 2)}\n`, 'application/json');
      setExported({ busy: false, message: t('detail.exported', { filename }) });
    } catch (error) {
      setExported({ busy: false, message: describeError(error, t) });
    }
  };

  return (
    <section aria-labelledby="actions-heading">
      <h2 id="actions-heading" className="visually-hidden">
        {t('detail.actions')}
      </h2>
      <p>{t('detail.usedBy', { count: servers })}</p>
      <div className="button-row">
        <button type="button" className="button" data-variant="secondary" disabled={exported.busy} onClick={() => void exportEgg()}>
          {t('detail.export')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="danger"
          disabled={inUse || remove.isPending}
          aria-describedby={inUse ? 'delete-reason' : undefined}
          onClick={() => setConfirming(true)}
        >
          {t('detail.delete')}
        </button>
        <span role="status" className="muted">
          {exported.message}
        </span>
      </div>
      {inUse && (
        <p id="delete-reason" className="hint">
          {t('detail.deleteRefused', { count: servers })}
        </p>
      )}
      {remove.isError && (
        <>
          <ErrorAlert error={remove.error} />
          {refusedCount !== null && <p className="hint">{t('detail.deleteRefused', { count: refusedCount })}</p>}
        </>
      )}
      <ConfirmDialog
        isOpen={confirming}
        title={t('detail.confirmTitle', { name: blueprint.name })}
        confirmLabel={t('detail.delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() =>
          remove.mutate(undefined, {
            onSuccess: () => void navigate('/admin/blueprints'),
            onSettled: () => setConfirming(false),
          })
        }
      >
        <p>{t('detail.confirmText', { name: blueprint.name })}</p>
      </ConfirmDialog>
    </section>
  );
}
