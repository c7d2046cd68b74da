import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { useTenants } from '../api/tenants';

/** A native select: keyboard and screen-reader behaviour for free; choosing navigates. */
export function TenantSwitcher() {
  const { t } = useTranslation();
  const { tenantId } = useParams();
  const navigate = useNavigate();
  const tenants = useTenants();
  const items = tenants.data?.items ?? [];
  if (tenants.isPending || tenants.isError) return null;
  return (
    <div className="field">
      <label htmlFor="tenant-switcher" className="visually-hidden">
        {t('tenants:switcher.label')}
      </label>
      <select
        id="tenant-switcher"
        value={tenantId ?? ''}
        onChange={(e) => navigate(e.target.value === '__new' ? '/tenants/new' : `/t/${e.target.value}`)}
      >
        {!tenantId && <option value="">{t('tenants:switcher.choose')}</option>}
        {items.map((tenant) => (
          <option key={tenant.id} value={tenant.id}>
            {tenant.name}
          </option>
        ))}
        <option value="__new">{t('tenants:switcher.create')}</option>
      </select>
    </div>
  );
}
