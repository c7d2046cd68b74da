import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { ServerTabs } from '@/features/servers/components/ServerTabs';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { formatMegabytes } from '@/lib/format';
import { denied, useCan } from '@/features/roles/api/can';
import { checkValue } from '@/features/servers/lib/rules';
import {
  maxFor,
  useBlueprint,
  useDeleteServer,
  useReinstall,
  useServer,
  useUpdateServer,
  useUsage,
  type Blueprint,
  type Server,
} from '../api/settings';

/** Server settings (a tab of the server page): name, limits, environment, reinstall, delete. */
export function ServerSettingsPage() {
  const { tenantId = '', serverId = '' } = useParams();
  const { t } = useTranslation('serverSettings');
  const server = useServer(tenantId, serverId);
  const locked = denied(useCan(tenantId), 'servers.update');
  if (server.isPending) return <Loading />;
  if (server.isError) return <ErrorAlert error={server.error} onRetry={() => void server.refetch()} />;
  return (
    <>
      <PageTitle>{t('title', { server: server.data.name })}</PageTitle>
      <ServerTabs tenantId={tenantId} serverId={serverId} />
      {locked && <Notice tone="info">{t('permissions:denied', { permission: 'servers.update' })}</Notice>}
      <NameForm tenantId={tenantId} server={server.data} locked={locked} />
      <LimitsForm tenantId={tenantId} server={server.data} locked={locked} />
      <Environment tenantId={tenantId} server={server.data} locked={locked} />
      <Danger tenantId={tenantId} server={server.data} />
    </>
  );
}

function NameForm({ tenantId, server, locked }: { tenantId: string; server: Server; locked: boolean }) {
  const { t } = useTranslation('serverSettings');
  const update = useUpdateServer(tenantId, server.id);
  const [name, setName] = useState(server.name);
  const [description, setDescription] = useState(server.description ?? '');
  const errors = fieldErrors(update.error, t);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ name: name.trim(), description: description.trim() });
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="name-heading">
      <h2 id="name-heading">{t('name.title')}</h2>
      <TextField label={t('name.name')} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <TextField label={t('name.description')} maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} error={errors.description} />
      {update.isError && Object.keys(errors).length === 0 && <ErrorAlert error={update.error} />}
      {update.isSuccess && <Notice tone="success">{t('saved')}</Notice>}
      <button type="submit" className="button" disabled={update.isPending || !name.trim() || locked}>
        {t('name.save')}
      </button>
    </form>
  );
}

function LimitsForm({ tenantId, server, locked }: { tenantId: string; server: Server; locked: boolean }) {
  const { t } = useTranslation('serverSettings');
  const update = useUpdateServer(tenantId, server.id);
  const usage = useUsage(tenantId);
  const [memory, setMemory] = useState(String(server.limits.memory_mb));
  const [disk, setDisk] = useState(String(server.limits.disk_mb));
  const [cpu, setCpu] = useState(String(server.limits.cpu_percent));
  const errors = fieldErrors(update.error, t);
  const maxMemory = maxFor(usage.data?.memory_mb, server.limits.memory_mb);
  const maxDisk = maxFor(usage.data?.disk_mb, server.limits.disk_mb);
  const num = (v: string) => (/^\d+$/.test(v.trim()) ? Number(v) : NaN);
  const local: Record<string, string> = {};
  if (!(num(memory) >= 64)) local.memory = t('limits.memoryMin');
  else if (maxMemory !== undefined && num(memory) > maxMemory) local.memory = t('limits.overPlan', { max: formatMegabytes(maxMemory) });
  if (!(num(disk) >= 128)) local.disk = t('limits.diskMin');
  else if (maxDisk !== undefined && num(disk) > maxDisk) local.disk = t('limits.overPlan', { max: formatMegabytes(maxDisk) });
  if (!(num(cpu) >= 0)) local.cpu = t('limits.cpuMin');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (Object.keys(local).length) return;
    update.mutate({ limits: { memory_mb: num(memory), disk_mb: num(disk), cpu_percent: num(cpu) } });
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="limits-heading">
      <h2 id="limits-heading">{t('limits.title')}</h2>
      {usage.isError && <ErrorAlert error={usage.error} onRetry={() => void usage.refetch()} />}
      <TextField
        label={t('limits.memory')}
        inputMode="numeric"
        value={memory}
        onChange={(e) => setMemory(e.target.value)}
        hint={maxMemory !== undefined ? t('limits.upTo', { max: formatMegabytes(maxMemory) }) : t('limits.noPlanLimit')}
        error={local.memory ?? errors['limits.memory_mb']}
      />
      <TextField
        label={t('limits.disk')}
        inputMode="numeric"
        value={disk}
        onChange={(e) => setDisk(e.target.value)}
        hint={maxDisk !== undefined ? t('limits.upTo', { max: formatMegabytes(maxDisk) }) : t('limits.noPlanLimit')}
        error={local.disk ?? errors['limits.disk_mb']}
      />
      <TextField
        label={t('limits.cpu')}
        inputMode="numeric"
        value={cpu}
        onChange={(e) => setCpu(e.target.value)}
        hint={t('limits.cpuHint')}
        error={local.cpu ?? errors['limits.cpu_percent']}
      />
      {update.isError && Object.keys(errors).length === 0 && <ErrorAlert error={update.error} />}
      {update.isSuccess && <Notice tone="success">{update.data.operation ? t('limits.applying') : t('saved')}</Notice>}
      <button type="submit" className="button" disabled={update.isPending || locked}>
        {t('limits.save')}
      </button>
    </form>
  );
}

function Environment({ tenantId, server, locked }: { tenantId: string; server: Server; locked: boolean }) {
  const { t } = useTranslation('serverSettings');
  const blueprint = useBlueprint(tenantId, server.blueprint_id);
  return (
    <section className="card" aria-labelledby="env-heading">
      <h2 id="env-heading">{t('env.title')}</h2>
      {blueprint.isPending ? (
        <Loading />
      ) : blueprint.isError ? (
        <ErrorAlert error={blueprint.error} onRetry={() => void blueprint.refetch()} />
      ) : !blueprint.data || blueprint.data.variables.filter((v) => v.user_viewable).length === 0 ? (
        <p>{t('env.none')}</p>
      ) : (
        <EnvironmentForm tenantId={tenantId} serverId={server.id} blueprint={blueprint.data} locked={locked} />
      )}
    </section>
  );
}

function EnvironmentForm({ tenantId, serverId, blueprint, locked }: { tenantId: string; serverId: string; blueprint: Blueprint; locked: boolean }) {
  const { t } = useTranslation('serverSettings');
  const update = useUpdateServer(tenantId, serverId);
  const [values, setValues] = useState<Record<string, string>>({});
  const errors = fieldErrors(update.error, t);
  const variables = blueprint.variables.filter((v) => v.user_viewable);
  const changed = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
  // The variable's own rules, checked here as the API will (the same parsed rule_list as creating a server).
  const local: Record<string, string> = {};
  for (const v of variables) {
    const value = changed[v.env_variable];
    const failure = value === undefined ? undefined : checkValue(value, v.rule_list)[0];
    if (failure) local[v.env_variable] = t(`servers:rules.${failure.key}`, failure.params ?? {});
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (Object.keys(local).length) return;
    update.mutate({ environment: changed }, { onSuccess: () => setValues({}) });
  };
  return (
    <form onSubmit={submit} noValidate>
      <p className="muted">{t('env.intro')}</p>
      {variables.map((v) => (
        <TextField
          key={v.env_variable}
          label={v.name}
          placeholder={v.default_value}
          disabled={!v.user_editable}
          value={values[v.env_variable] ?? ''}
          onChange={(e) => setValues({ ...values, [v.env_variable]: e.target.value })}
          hint={
            <>
              {v.description} <code>{v.env_variable}</code>{' '}
              {v.user_editable ? t('env.default', { value: v.default_value || '–' }) : t('env.readOnly')}
            </>
          }
          error={local[v.env_variable] ?? errors[`environment.${v.env_variable}`]}
        />
      ))}
      {update.isError && Object.keys(errors).length === 0 && <ErrorAlert error={update.error} />}
      {update.isSuccess && <Notice tone="success">{t('env.saved')}</Notice>}
      <button type="submit" className="button" disabled={update.isPending || Object.keys(changed).length === 0 || locked}>
        {t('env.save')}
      </button>
    </form>
  );
}

function Danger({ tenantId, server }: { tenantId: string; server: Server }) {
  const { t } = useTranslation('serverSettings');
  const navigate = useNavigate();
  const reinstall = useReinstall(tenantId, server.id);
  const remove = useDeleteServer(tenantId, server.id);
  const [asking, setAsking] = useState<'reinstall' | 'delete' | null>(null);
  const can = useCan(tenantId);
  const [typed, setTyped] = useState('');
  const close = () => {
    setAsking(null);
    setTyped('');
  };
  return (
    <section className="card" aria-labelledby="danger-heading">
      <h2 id="danger-heading">{t('danger.title')}</h2>
      {(reinstall.error || remove.error) && <ErrorAlert error={reinstall.error ?? remove.error} />}
      {reinstall.data && (
        <Notice tone="info">
          {t('reinstall.started')}{' '}
          <Link to={`/t/${tenantId}/servers/${server.id}/progress/${reinstall.data.operation.id}`}>{t('reinstall.follow')}</Link>
        </Notice>
      )}
      <h3>{t('reinstall.title')}</h3>
      <p>{t('reinstall.body')}</p>
      <button type="button" className="button" data-variant="danger" disabled={denied(can, 'servers.reinstall')} onClick={() => setAsking('reinstall')}>
        {t('reinstall.action')}
      </button>
      {denied(can, 'servers.reinstall') && <p className="hint">{t('permissions:denied', { permission: 'servers.reinstall' })}</p>}
      <h3>{t('delete.title')}</h3>
      <p>{t('delete.body')}</p>
      <button type="button" className="button" data-variant="danger" disabled={denied(can, 'servers.delete')} onClick={() => setAsking('delete')}>
        {t('delete.action')}
      </button>
      {denied(can, 'servers.delete') && <p className="hint">{t('permissions:denied', { permission: 'servers.delete' })}</p>}

      <ConfirmDialog
        isOpen={asking === 'reinstall'}
        title={t('reinstall.confirmTitle', { name: server.name })}
        confirmLabel={t('reinstall.confirm', { name: server.name })}
        danger
        busy={reinstall.isPending}
        onCancel={close}
        onConfirm={() => reinstall.mutate(undefined, { onSettled: close })}
      >
        <p>{t('reinstall.confirmBody', { name: server.name })}</p>
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={asking === 'delete'}
        title={t('delete.confirmTitle', { name: server.name })}
        confirmLabel={t('delete.confirm')}
        danger
        busy={remove.isPending || typed !== server.name}
        onCancel={close}
        onConfirm={() => {
          if (typed !== server.name) return;
          remove.mutate(undefined, {
            onSuccess: () => navigate(`/t/${tenantId}`, { state: { deleted: server.name } }),
            onSettled: close,
          });
        }}
      >
        <p>{t('delete.confirmBody', { name: server.name })}</p>
        <TextField label={t('delete.typeName', { name: server.name })} autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
      </ConfirmDialog>
    </section>
  );
}
