import { useTranslation } from 'react-i18next';
import './PermissionPicker.css';


/** Permissions grouped by family ("servers.read" → "servers"), families and members in order. */
export function groupPermissions(permissions: string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const p of [...permissions].sort()) {
    const family = p.split('.', 1)[0] ?? p;
    groups.set(family, [...(groups.get(family) ?? []), p]);
  }
  return [...groups.entries()];
}

/** The permission catalogue as checkboxes, one fieldset per family, each with "all of them". */
export function PermissionPicker({
  catalogue,
  selected,
  onChange,
  error,
}: {
  catalogue: string[];
  selected: string[];
  onChange: (next: string[]) => void;
  error?: string | undefined;
}) {
  const { t } = useTranslation('permissions');
  const chosen = new Set(selected);
  const set = (perms: string[], on: boolean) => {
    const next = new Set(chosen);
    perms.forEach((p) => (on ? next.add(p) : next.delete(p)));
    onChange([...next].sort());
  };
  return (
    <div className="permission-picker">
      {groupPermissions(catalogue).map(([family, perms]) => {
        const all = perms.every((p) => chosen.has(p));
        const some = !all && perms.some((p) => chosen.has(p));
        return (
          <fieldset key={family}>
            <legend>{t(`families.${family}`, { defaultValue: family })}</legend>
            <label>
              <input
                type="checkbox"
                checked={all}
                ref={(el) => {
                  if (el) el.indeterminate = some;
                }}
                onChange={(e) => set(perms, e.target.checked)}
              />{' '}
              {t('all', { family: t(`families.${family}`, { defaultValue: family }) })}
            </label>
            {perms.map((p) => (
              <div key={p}>
                <label>
                  <input type="checkbox" checked={chosen.has(p)} onChange={(e) => set([p], e.target.checked)} />{' '}
                  {t(`perm.${p}`, { defaultValue: p })} <code className="muted">{p}</code>
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
