import { useTranslation } from 'react-i18next';
import type { components } from '@/api/schema';
import { formatDate, formatMoney } from '@/lib/format';

type Invoice = components['schemas']['InvoiceOut'];

/** A tenant's Stripe invoices, as the customer's billing page and the operator's tenant page both show them. */
export function InvoiceTable({ items }: { items: Invoice[] }) {
  const { t } = useTranslation('billing');
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('invoices.number')}</th>
          <th scope="col">{t('invoices.date')}</th>
          <th scope="col">{t('invoices.amount')}</th>
          <th scope="col">{t('invoices.status')}</th>
          <th scope="col">{t('invoices.links')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((inv) => (
          <tr key={inv.id}>
            <th scope="row">{inv.number ?? inv.id}</th>
            <td>{formatDate(inv.created * 1000)}</td>
            <td>{formatMoney(inv.amount_due, inv.currency)}</td>
            <td>{inv.status ? t(`invoiceStatus.${inv.status}`, { defaultValue: inv.status }) : '–'}</td>
            <td>
              {inv.hosted_invoice_url && (
                <a href={inv.hosted_invoice_url} rel="noopener noreferrer" target="_blank">
                  {t('invoices.view', { number: inv.number ?? inv.id })}
                </a>
              )}{' '}
              {inv.invoice_pdf && (
                <a href={inv.invoice_pdf} rel="noopener noreferrer" target="_blank">
                  {t('invoices.pdf', { number: inv.number ?? inv.id })}
                </a>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
