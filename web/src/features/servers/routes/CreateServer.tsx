import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { SelectField, TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { formatMegabytes, formatNumber } from '@/lib/format';
import { useBlueprints, useCreateServer, useLocations, useUsage, type Blueprint } from '../api/servers';
import { useVariableErrors, VariableField } from '../components/VariableField';

// LimitsIn in /openapi.json: memory and disk at least 64 MiB.
const MIN_MB = 64;
const DEFAULT_MEMORY_MB = 1024;
const DEFAULT_DISK_MB = 2048;

function remaining(use: { used: number; limit: number; unlimited: boolean } | undefined): number | null {
  if (!use || use.unlimited) return null;
  return Math.max(0, use.limit - use.used);
}

export function CreateServer() {
  const { t } = useTranslation();
  const { tenantId = '' } = useParams();
  const navigate = useNavigate();
  const blueprints = useBlueprints(tenantId);
  const usage = useUsage(tenantId);
  const create = useCreateServer(tenantId);
  const variableError = useVariableErrors();

  const [name, setName] = useState('');
  const [blueprintId, setBlueprintId] = useState('');
  const [env, setEnv] = useState<Record<string, string>>({});
  const [memory, setMemory] = useState(DEFAULT_MEMORY_MB);
  const [disk, setDisk] = useState(DEFAULT_DISK_MB);
  const [location, setLocation] = useState('');
  const [touched, setTouched] = useState(false);
  const locations = useLocations(tenantId, memory, disk);

  const items = blueprints.data?.items ?? [];
  const blueprint: Blueprint | undefined = items.find((b) => b.id === blueprintId);

  useEffect(() => {
    if (!blueprintId && items[0]) setBlueprintId(items[0].id);
  }, [blueprintId, items]);
  useEffect(() => {
    // A new blueprint starts from its own defaults.
    setEnv(Object.fromEntries((blueprint?.variables ?? []).map((v) => [v.env_variable, v.default_value ?? ''])));
  }, [blueprint]);

  const memoryLeft = remaining(usage.data?.memory_mb);
  const diskLeft = remaining(usage.data?.disk_mb);
  const serversLeft = remaining(usage.data?.servers);
  useEffect(() => {
    if (memoryLeft !== null) setMemory((m) => Math.max(MIN_MB, Math.min(m, memoryLeft)));
    if (diskLeft !== null) setDisk((d) => Math.max(MIN_MB, Math.min(d, diskLeft)));
  }, [memoryLeft, diskLeft]);

  const apiFields = fieldErrors(create.error, t);
  const localErrors = useMemo(() => {
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = t('servers:rules.required');
    for (const v of blueprint?.variables ?? []) {
      if (!v.user_editable) continue;
      const problem = variableError(v, env[v.env_variable] ?? '');
      if (problem) found[`environment.${v.env_variable}`] = problem;
    }
    if (memory < MIN_MB || (memoryLeft !== null && memory > memoryLeft)) found['limits.memory_mb'] = t('servers:create.memoryRange', { min: MIN_MB, max: memoryLeft ?? '∞' });
    if (disk < MIN_MB || (diskLeft !== null && disk > diskLeft)) found['limits.disk_mb'] = t('servers:create.diskRange', { min: MIN_MB, max: diskLeft ?? '∞' });
    return found;
  }, [name, blueprint, env, memory, disk, memoryLeft, diskLeft, t, variableError]);
  const errorFor = (field: string) => (touched ? localErrors[field] : undefined) ?? apiFields[field];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (Object.keys(localErrors).length > 0 || !blueprint) {
      // Focus the first field that needs attention so keyboard and screen-reader users land on it.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    const environment = Object.fromEntries(
      blueprint.variables.filter((v) => v.user_editable).map((v) => [v.env_variable, env[v.env_variable] ?? '']),
    );
    create.mutate(
      {
        name: name.trim(),
        blueprint_id: blueprint.id,
        environment,
        limits: { memory_mb: memory, disk_mb: disk },
        location: location || null,
        start_on_completion: true,
      },
      { onSuccess: (created) => navigate(`/t/${tenantId}/servers/${created.server.id}/progress/${created.operation.id}`) },
    );
  };

  if (blueprints.isPending || usage.isPending) return <Loading />;
  if (blueprints.isError) return <ErrorAlert error={blueprints.error} onRetry={() => blueprints.refetch()} />;
  if (usage.isError) return <ErrorAlert error={usage.error} onRetry={() => usage.refetch()} />;

  return (
    <div className="narrow">
      <PageTitle>{t('servers:CreateServer.title')}</PageTitle>
      {items.length === 0 ? (
        <Empty>{t('servers:create.noBlueprints')}</Empty>
      ) : serversLeft === 0 ? (
        <Notice tone="warning">{t('servers:create.noServersLeft', { limit: usage.data.servers.limit })}</Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          {create.error && <ErrorAlert error={create.error} />}
          <TextField
            label={t('servers:create.name')}
            value={name}
            maxLength={100}
            required
            onChange={(e) => setName(e.target.value)}
            error={errorFor('name')}
          />
          <SelectField
            label={t('servers:create.blueprint')}
            hint={blueprint?.description}
            value={blueprintId}
            onChange={(e) => setBlueprintId(e.target.value)}
            error={errorFor('blueprint_id')}
          >
            {items.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </SelectField>
          {blueprint && blueprint.variables.length > 0 && (
            <fieldset className="card">
              <legend>{t('servers:create.variables')}</legend>
              {blueprint.variables.map((v) => (
                <VariableField
                  key={v.env_variable}
                  variable={v}
                  value={env[v.env_variable] ?? ''}
                  onChange={(value) => setEnv((old) => ({ ...old, [v.env_variable]: value }))}
                  error={errorFor(`environment.${v.env_variable}`)}
                />
              ))}
            </fieldset>
          )}
          <fieldset className="card">
            <legend>{t('servers:create.limits')}</legend>
            <TextField
              label={t('servers:create.memory')}
              type="number"
              min={MIN_MB}
              max={memoryLeft ?? undefined}
              step={64}
              value={memory}
              onChange={(e) => setMemory(Number(e.target.value))}
              hint={t('servers:create.available', { amount: memoryLeft === null ? t('servers:create.unlimited') : formatMegabytes(memoryLeft) })}
              error={errorFor('limits.memory_mb')}
            />
            <TextField
              label={t('servers:create.disk')}
              type="number"
              min={MIN_MB}
              max={diskLeft ?? undefined}
              step={64}
              value={disk}
              onChange={(e) => setDisk(Number(e.target.value))}
              hint={t('servers:create.available', { amount: diskLeft === null ? t('servers:create.unlimited') : formatMegabytes(diskLeft) })}
              error={errorFor('limits.disk_mb')}
            />
            {serversLeft !== null && (
              <p className="muted">{t('servers:create.serversLeft', { count: serversLeft, left: formatNumber(serversLeft) })}</p>
            )}
          </fieldset>
          <SelectField
            label={t('servers:create.location')}
            value={location}
            onChange={(e) => setLocation(e.target.value)}
            hint={locations.isError ? t('servers:create.locationsFailed') : undefined}
            error={errorFor('location')}
          >
            <option value="">{t('servers:create.anyLocation')}</option>
            {(locations.data?.items ?? []).map((l) => (
              <option key={l.id} value={l.id} disabled={!l.available}>
                {l.available ? l.id : t('servers:create.locationFull', { location: l.id })}
              </option>
            ))}
          </SelectField>
          <div className="button-row">
            <button type="submit" className="button" disabled={create.isPending}>
              {create.isPending ? t('servers:create.working') : t('servers:create.submit')}
            </button>
            <Link to={`/t/${tenantId}`}>{t('common:actions.cancel')}</Link>
          </div>
        </form>
      )}
    </div>
  );
}
