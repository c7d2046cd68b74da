import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import { ErrorAlert } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { parseList, type Node, type NodeInput } from '../api/nodes';

/** The form's text state: numbers stay text while typed, so an emptied field is not a 0. */
export interface NodeDraft {
  name: string;
  location: string;
  fqdn: string;
  scheme: 'http' | 'https';
  behind_proxy: boolean;
  daemon_port: string;
  sftp_port: string;
  daemon_base: string;
  upload_limit_mb: string;
  memory_mb: string;
  memory_overallocate_percent: string;
  disk_mb: string;
  disk_overallocate_percent: string;
  tags: string;
  allowed_tenants: string;
  allowed_origins: string;
}

export const NEW_NODE: NodeDraft = {
  name: '',
  location: '',
  fqdn: '',
  scheme: 'https',
  behind_proxy: false,
  daemon_port: '8080',
  sftp_port: '2022',
  daemon_base: '/var/lib/pterodactyl/volumes',
  upload_limit_mb: '100',
  memory_mb: '',
  memory_overallocate_percent: '0',
  disk_mb: '',
  disk_overallocate_percent: '0',
  tags: '',
  allowed_tenants: '',
  allowed_origins: '',
};

export function draftOf(node: Node): NodeDraft {
  return {
    name: node.name,
    location: node.location,
    fqdn: node.fqdn,
    scheme: node.scheme === 'http' ? 'http' : 'https',
    behind_proxy: node.behind_proxy,
    daemon_port: String(node.daemon_port),
    sftp_port: String(node.sftp_port),
    daemon_base: node.daemon_base,
    upload_limit_mb: String(node.upload_limit_mb),
    memory_mb: String(node.memory_mb),
    memory_overallocate_percent: String(node.memory_overallocate_percent),
    disk_mb: String(node.disk_mb),
    disk_overallocate_percent: String(node.disk_overallocate_percent),
    tags: node.tags.join(', '),
    allowed_tenants: node.allowed_tenants.join(', '),
    allowed_origins: (node.allowed_origins ?? []).join(', '),
  };
}

const NUMBERS = [
  'daemon_port',
  'sftp_port',
  'upload_limit_mb',
  'memory_mb',
  'memory_overallocate_percent',
  'disk_mb',
  'disk_overallocate_percent',
] as const;

/**
 * The draft as the API's body. A number field that is not a whole number is sent as the text
 * typed (NaN would become null), so the API's own validation names the field.
 */
export function bodyOf(draft: NodeDraft): NodeInput {
  const num = (text: string): number => (/^-?\d+$/.test(text.trim()) ? Number(text.trim()) : (text as unknown as number));
  const body: Record<string, unknown> = {
    name: draft.name.trim(),
    location: draft.location.trim(),
    fqdn: draft.fqdn.trim(),
    scheme: draft.scheme,
    behind_proxy: draft.behind_proxy,
    daemon_base: draft.daemon_base.trim(),
    tags: parseList(draft.tags),
    allowed_tenants: parseList(draft.allowed_tenants),
    allowed_origins: parseList(draft.allowed_origins),
  };
  for (const key of NUMBERS) body[key] = num(draft[key]);
  return body as unknown as NodeInput;
}

/** Create or edit a node: every field of docs/nodes.md "Node fields", with the API's errors at their inputs. */
export function NodeForm({
  initial,
  submitLabel,
  busyLabel,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  initial: NodeDraft;
  submitLabel: string;
  busyLabel: string;
  busy: boolean;
  error: unknown;
  onSubmit: (draft: NodeDraft) => void;
  onCancel?: () => void;
}) {
  const { t } = useTranslation('adminNodes');
  const [draft, setDraft] = useState<NodeDraft>(initial);
  const errors = fieldErrors(error, t);
  const text = (key: Exclude<keyof NodeDraft, 'scheme' | 'behind_proxy'>) => ({
    value: draft[key],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [key]: e.target.value }),
    error: errors[key],
    name: key,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(draft);
  };
  return (
    <form className="node-form" onSubmit={submit} noValidate>
      <fieldset>
        <legend>{t('form.identity')}</legend>
        <div className="form-grid">
          <TextField label={t('form.name')} required autoComplete="off" {...text('name')} />
          <TextField label={t('form.location')} hint={t('form.locationHint')} autoComplete="off" {...text('location')} />
        </div>
      </fieldset>
      <fieldset>
        <legend>{t('form.connection')}</legend>
        <div className="form-grid">
          <TextField label={t('form.fqdn')} hint={t('form.fqdnHint')} required autoComplete="off" spellCheck={false} {...text('fqdn')} />
          <SelectField
            label={t('form.scheme')}
            name="scheme"
            value={draft.scheme}
            error={errors.scheme}
            onChange={(e) => setDraft({ ...draft, scheme: e.target.value === 'http' ? 'http' : 'https' })}
          >
            <option value="https">https</option>
            <option value="http">http</option>
          </SelectField>
          <TextField label={t('form.daemonPort')} inputMode="numeric" required {...text('daemon_port')} />
          <TextField label={t('form.sftpPort')} inputMode="numeric" required {...text('sftp_port')} />
        </div>
        <div className="field">
          <label>
            <input
              type="checkbox"
              name="behind_proxy"
              checked={draft.behind_proxy}
              onChange={(e) => setDraft({ ...draft, behind_proxy: e.target.checked })}
            />{' '}
            {t('form.behindProxy')}
          </label>
          <span className="hint">{t('form.behindProxyHint')}</span>
        </div>
        <div className="form-grid">
          <TextField label={t('form.daemonBase')} hint={t('form.daemonBaseHint')} spellCheck={false} {...text('daemon_base')} />
          <TextField label={t('form.uploadLimit')} inputMode="numeric" {...text('upload_limit_mb')} />
        </div>
      </fieldset>
      <fieldset>
        <legend>{t('form.resources')}</legend>
        <div className="form-grid" data-pairs>
          <TextField label={t('form.memory')} inputMode="numeric" required {...text('memory_mb')} />
          <TextField
            label={t('form.memoryOver')}
            hint={t('form.overHint')}
            inputMode="numeric"
            {...text('memory_overallocate_percent')}
          />
          <TextField label={t('form.disk')} inputMode="numeric" required {...text('disk_mb')} />
          <TextField label={t('form.diskOver')} hint={t('form.overHint')} inputMode="numeric" {...text('disk_overallocate_percent')} />
        </div>
      </fieldset>
      <fieldset>
        <legend>{t('form.access')}</legend>
        <div className="form-grid">
          <TextField label={t('form.tags')} hint={t('form.listHint')} autoComplete="off" {...text('tags')} />
          <TextField label={t('form.allowedTenants')} hint={t('form.allowedTenantsHint')} autoComplete="off" {...text('allowed_tenants')} />
          <TextField label={t('form.allowedOrigins')} hint={t('form.allowedOriginsHint')} autoComplete="off" {...text('allowed_origins')} />
        </div>
      </fieldset>
      {error !== null && error !== undefined && Object.keys(errors).length === 0 && <ErrorAlert error={error} />}
      {Object.keys(errors).length > 0 && (
        <p role="alert" className="field-error">
          {t('form.fixFields')}
        </p>
      )}
      <div className="button-row">
        <button type="submit" className="button" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="button" data-variant="secondary" onClick={onCancel}>
            {t('common:actions.cancel')}
          </button>
        )}
      </div>
    </form>
  );
}
