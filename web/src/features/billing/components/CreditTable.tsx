import { useTranslation } from 'react-i18next';
import type { components } from '@/api/schema';
import { formatDate, formatMoney } from '@/lib/format';

type Credit = components['schemas']['CreditList']['items'][number];

/** A tenant's credit ledger (grants, purchases, uses), shared by the billing page and the operator's tenant page. */
export function CreditTable({ items, caption }: { items: Credit[]; caption?: string }) {
  const { t } = useTranslation('billing');
  return (
    <table>
      {caption && <caption className="visually-hidden">{caption}</caption>}
      <thead>
        <tr>
          <th scope="col">{t('credits.date')}</th>
          <th scope="col">{t('credits.amount')}</th>
          <th scope="col">{t('credits.source')}</th>
          <th scope="col">{t('credits.reason')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.id}>
            <td>{formatDate(c.created_at)}</td>
            <td>{formatMoney(c.amount_cents, c.currency)}</td>
            <td>{t(`creditSource.${c.source}`, { defaultValue: c.source })}</td>
            <td>{c.reason || '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
