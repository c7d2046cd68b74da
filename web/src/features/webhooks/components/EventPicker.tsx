import { useTranslation } from 'react-i18next';
import { groupEvents } from '../api/webhooks';

/** The event types a webhook subscribes to, one fieldset per family, each with "all of them". */
export function EventPicker({
  types,
  selected,
  onChange,
  error,
}: {
  types: string[];
  selected: string[];
  onChange: (next: string[]) => void;
  error?: string | undefined;
}) {
  const { t } = useTranslation('webhooks');
  const chosen = new Set(selected);
  const set = (items: string[], on: boolean) => {
    const next = new Set(chosen);
    items.forEach((i) => (on ? next.add(i) : next.delete(i)));
    onChange(types.filter((type) => next.has(type)));
  };
  return (
    <div className="permission-picker">
      {groupEvents(types).map(([family, items]) => {
        const all = items.every((i) => chosen.has(i));
        const some = !all && items.some((i) => chosen.has(i));
        const familyName = t(`families.${family}`, { defaultValue: family });
        return (
          <fieldset key={family}>
            <legend>{familyName}</legend>
            <label>
              <input
                type="checkbox"
                checked={all}
                ref={(el) => {
                  if (el) el.indeterminate = some;
                }}
                onChange={(e) => set(items, e.target.checked)}
              />{' '}
              {t('form.allOf', { family: familyName })}
            </label>
            {items.map((type) => (
              <div key={type}>
                <label>
                  <input type="checkbox" checked={chosen.has(type)} onChange={(e) => set([type], e.target.checked)} />{' '}
                  {t(`events.${type.replace('.', '_')}`, { defaultValue: type })} <code className="muted">{type}</code>
                </label>
              </div>
            ))}
          </fieldset>
        );
      })}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
