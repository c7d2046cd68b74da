import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import type { Blueprint } from '../api/servers';
import { checkValue, choices, isBoolean } from '../lib/rules';

type Variable = Blueprint['variables'][number];

/** The sentences of a value's rule failures, in the user's language. */
export function useVariableErrors() {
  const { t } = useTranslation();
  return (variable: Variable, value: string): string | undefined => {
    const failures = checkValue(value, variable.rule_list);
    if (failures.length === 0) return undefined;
    return failures.map((f) => t(`servers:rules.${f.key}`, f.params ?? {})).join(' ');
  };
}

/** One blueprint variable: a select for `in:` rules and booleans, a text box otherwise. */
export function VariableField({
  variable,
  value,
  onChange,
  error,
}: {
  variable: Variable;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  const { t } = useTranslation();
  const options = choices(variable.rule_list) ?? (isBoolean(variable.rule_list) ? ['1', '0'] : null);
  const hint = (
    <>
      {variable.description && <span className="hint-line">{variable.description}</span>}
      <span className="hint-line">{t('servers:create.variableRules', { rules: variable.rules })}</span>
    </>
  );
  const label = variable.required ? variable.name : t('servers:create.optional', { name: variable.name });
  if (!variable.user_editable) {
    return <TextField label={label} hint={hint} value={value} readOnly />;
  }
  if (options) {
    return (
      <SelectField label={label} hint={hint} value={value} onChange={(e) => onChange(e.target.value)} error={error}>
        {!variable.required && <option value="">{t('servers:create.none')}</option>}
        {options.map((option) => (
          <option key={option} value={option}>
            {isBoolean(variable.rule_list) ? t(option === '1' ? 'servers:create.yes' : 'servers:create.no') : option}
          </option>
        ))}
      </SelectField>
    );
  }
  return (
    <TextField
      label={label}
      hint={hint}
      value={value}
      required={variable.required}
      onChange={(e) => onChange(e.target.value)}
      error={error}
    />
  );
}
