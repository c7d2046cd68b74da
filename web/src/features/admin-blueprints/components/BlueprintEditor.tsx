import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import { ErrorAlert, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { useUpdateBlueprint, type Blueprint, type Variable } from '../api/blueprints';

type StopType = NonNullable<Blueprint['stop_type']>;
const STOP_TYPES: StopType[] = ['command', 'signal', 'stop'];

interface Draft {
  name: string;
  category: string;
  description: string;
  startup: string;
  stop_type: StopType;
  stop_value: string;
  variables: Variable[];
}

function draftOf(blueprint: Blueprint): Draft {
  return {
    name: blueprint.name,
    category: blueprint.category ?? '',
    description: blueprint.description ?? '',
    startup: blueprint.startup,
    stop_type: blueprint.stop_type ?? 'command',
    stop_value: blueprint.stop_value ?? '',
    variables: (blueprint.variables ?? []).map((v) => ({ ...v })),
  };
}

const NEW_VARIABLE: Variable = {
  name: '',
  env_variable: '',
  description: '',
  default_value: '',
  user_viewable: true,
  user_editable: true,
  rules: 'nullable|string',
  field_type: 'text',
};

/** Edit what a blueprint runs and its variables with their rules; the API checks every rule on save. */
export function BlueprintEditor({ blueprint }: { blueprint: Blueprint }) {
  const { t } = useTranslation('adminBlueprints');
  const update = useUpdateBlueprint(blueprint.id);
  const [draft, setDraft] = useState<Draft>(() => draftOf(blueprint));
  const descriptionId = useId();
  const errors = fieldErrors(update.error, t);
  // The egg checker names `variables[0].rules`; pydantic names `variables.0.rules`.
  const fieldError = (name: string, i?: number, field?: string) =>
    i === undefined ? errors[name] : (errors[`variables[${i}].${field}`] ?? errors[`variables.${i}.${field}`]);

  const setVariable = (i: number, change: Partial<Variable>) =>
    setDraft((d) => ({ ...d, variables: d.variables.map((v, j) => (j === i ? { ...v, ...change } : v)) }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate(
      {
        name: draft.name.trim(),
        category: draft.category.trim(),
        description: draft.description,
        startup: draft.startup,
        stop_type: draft.stop_type,
        stop_value: draft.stop_value,
        variables: draft.variables.map((v) => ({ ...v, name: v.name.trim(), env_variable: v.env_variable.trim() })),
      },
      { onSuccess: (saved) => setDraft(draftOf(saved)) },
    );
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="edit-heading">
      <h2 id="edit-heading">{t('edit.title')}</h2>
      <div className="form-columns">
        <TextField label={t('edit.name')} required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} error={fieldError('name')} />
        <TextField
          label={t('edit.category')}
          hint={t('edit.categoryHint')}
          value={draft.category}
          onChange={(e) => setDraft({ ...draft, category: e.target.value })}
          error={fieldError('category')}
        />
        <SelectField
          label={t('edit.stopType')}
          value={draft.stop_type}
          onChange={(e) => setDraft({ ...draft, stop_type: e.target.value as StopType })}
          error={fieldError('stop_type')}
        >
          {STOP_TYPES.map((s) => (
            <option key={s} value={s}>
              {t(`edit.stopTypes.${s}`)}
            </option>
          ))}
        </SelectField>
        <TextField
          label={t('edit.stopValue')}
          hint={t(`edit.stopValueHint.${draft.stop_type}`)}
          value={draft.stop_value}
          onChange={(e) => setDraft({ ...draft, stop_value: e.target.value })}
          error={fieldError('stop_value') ?? fieldError('stop.value')}
        />
      </div>
      <TextField
        label={t('edit.startup')}
        hint={t('edit.startupHint', { example: '{{SERVER_PORT}}' })}
        required
        spellCheck={false}
        value={draft.startup}
        onChange={(e) => setDraft({ ...draft, startup: e.target.value })}
        error={fieldError('startup')}
      />
      <div className="field">
        <label htmlFor={descriptionId}>{t('edit.description')}</label>
        <textarea id={descriptionId} rows={3} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
      </div>

      <h3>{t('edit.variablesTitle')}</h3>
      <p className="muted">{t('edit.variablesIntro')}</p>
      {draft.variables.map((v, i) => (
        <fieldset key={i} className="variable-editor">
          <legend>{v.name || t('edit.variableN', { n: i + 1 })}</legend>
          <div className="form-columns">
            <TextField label={t('variables.name')} required value={v.name} onChange={(e) => setVariable(i, { name: e.target.value })} error={fieldError('', i, 'name')} />
            <TextField
              label={t('variables.env')}
              required
              spellCheck={false}
              value={v.env_variable}
              onChange={(e) => setVariable(i, { env_variable: e.target.value })}
              error={fieldError('', i, 'env_variable')}
            />
            <TextField
              label={t('variables.default')}
              spellCheck={false}
              value={v.default_value ?? ''}
              onChange={(e) => setVariable(i, { default_value: e.target.value })}
              error={fieldError('', i, 'default_value')}
            />
            <TextField
              label={t('variables.rules')}
              hint={t('edit.rulesHint')}
              spellCheck={false}
              value={v.rules ?? ''}
              onChange={(e) => setVariable(i, { rules: e.target.value })}
              error={fieldError('', i, 'rules')}
            />
          </div>
          <TextField label={t('variables.description')} value={v.description ?? ''} onChange={(e) => setVariable(i, { description: e.target.value })} />
          <div className="button-row">
            <label className="checkbox-field">
              <input type="checkbox" checked={v.user_viewable ?? true} onChange={(e) => setVariable(i, { user_viewable: e.target.checked })} />
              {t('edit.userViewable')}
            </label>
            <label className="checkbox-field">
              <input type="checkbox" checked={v.user_editable ?? true} onChange={(e) => setVariable(i, { user_editable: e.target.checked })} />
              {t('edit.userEditable')}
            </label>
            <button
              type="button"
              className="button"
              data-variant="secondary"
              aria-label={t('edit.removeNamed', { name: v.name || t('edit.variableN', { n: i + 1 }) })}
              onClick={() => setDraft((d) => ({ ...d, variables: d.variables.filter((_, j) => j !== i) }))}
            >
              {t('edit.remove')}
            </button>
          </div>
        </fieldset>
      ))}
      <div className="button-row">
        <button
          type="button"
          className="button"
          data-variant="secondary"
          onClick={() => setDraft((d) => ({ ...d, variables: [...d.variables, { ...NEW_VARIABLE }] }))}
        >
          {t('edit.addVariable')}
        </button>
      </div>
      {update.isError && <ErrorAlert error={update.error} />}
      {update.isSuccess && !update.isPending && <Notice tone="success">{t('edit.saved')}</Notice>}
      <div className="button-row">
        <button type="submit" className="button" disabled={update.isPending || !draft.name.trim() || !draft.startup.trim()}>
          {update.isPending ? t('edit.saving') : t('edit.save')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={() => { setDraft(draftOf(blueprint)); update.reset(); }}>
          {t('edit.reset')}
        </button>
      </div>
    </form>
  );
}
