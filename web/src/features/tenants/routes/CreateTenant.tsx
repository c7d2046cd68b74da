import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { useCreateTenant } from '../api/tenants';

export function CreateTenant() {
  const { t } = useTranslation();
  const create = useCreateTenant();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(name.trim(), { onSuccess: (tenant) => navigate(`/t/${tenant.id}`) });
  };
  return (
    <div className="narrow">
      <PageTitle>{t('tenants:create.title')}</PageTitle>
      <p>{t('tenants:create.intro')}</p>
      {create.error && <ErrorAlert error={create.error} />}
      <form onSubmit={submit}>
        <TextField
          label={t('tenants:create.name')}
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={fieldErrors(create.error, t).name}
        />
        <button type="submit" className="button" disabled={create.isPending}>
          {t('tenants:create.submit')}
        </button>
      </form>
    </div>
  );
}
