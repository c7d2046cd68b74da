import { useTranslation } from 'react-i18next';
import type { Variable } from '../api/blueprints';

/** A blueprint's variables as a table: what a customer will set, with its default and rules. */
export function VariablesTable({ variables, caption }: { variables: readonly Variable[]; caption: string }) {
  const { t } = useTranslation('adminBlueprints');
  if (variables.length === 0) return <p className="muted">{t('variables.none')}</p>;
  return (
    <div className="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('variables.name')}</th>
            <th scope="col">{t('variables.env')}</th>
            <th scope="col">{t('variables.default')}</th>
            <th scope="col">{t('variables.rules')}</th>
            <th scope="col">{t('variables.access')}</th>
          </tr>
        </thead>
        <tbody>
          {variables.map((v) => (
            <tr key={v.env_variable}>
              <th scope="row">
                {v.name}
                {v.description && (
                  <>
                    <br />
                    <span className="muted">{v.description}</span>
                  </>
                )}
              </th>
              <td>
                <code>{v.env_variable}</code>
              </td>
              <td>{v.default_value ? <code>{v.default_value}</code> : <span className="muted">{t('variables.empty')}</span>}</td>
              <td>
                <code>{v.rules}</code>
              </td>
              <td>{t(v.user_editable ? 'variables.editable' : v.user_viewable ? 'variables.viewable' : 'variables.hidden')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
