import { describe, expect, it } from 'vitest';
import { GIB, toMinorUnits } from '../api/plans';
import { bodyOf, draftOf } from './PlanForm';

describe('plan form', () => {
  it('reads an amount as minor units and refuses what is not one', () => {
    expect(toMinorUnits('9.99')).toBe(999);
    expect(toMinorUnits('12,5')).toBe(1250);
    expect(toMinorUnits('0')).toBe(0);
    expect(toMinorUnits('9.999')).toBeNaN();
    expect(toMinorUnits('-1')).toBeNaN();
    expect(toMinorUnits('ten')).toBeNaN();
  });

  it('turns a draft into the API body: GiB to bytes, -1 kept, metered prices only when filled in', () => {
    const draft = draftOf();
    draft.id = ' pro ';
    draft.name = 'Pro';
    draft.amount = '19.90';
    draft.currency = 'EUR';
    draft.price_id = 'price_pro';
    draft.quotas.backup_gib = '2.5';
    draft.quotas.servers = '-1';
    draft.metered.ram_gb_hours.price_id = 'price_ram';

    const body = bodyOf(draft);

    expect(body).toMatchObject({ id: 'pro', name: 'Pro', amount_cents: 1990, currency: 'eur', price_id: 'price_pro' });
    expect(body.quotas.backup_bytes).toBe(2.5 * GIB);
    expect(body.quotas.servers).toBe(-1);
    expect(body.metered).toEqual([{ metric: 'ram_gb_hours', price_id: 'price_ram', event_name: 'gs_ram_gb_hours' }]);
  });

  it('shows an existing plan as it is stored, and an empty price id as none', () => {
    const plan = {
      id: 'free',
      name: 'Free',
      price_id: null,
      metered: [],
      quotas: { servers: 1, memory_mb: 1024, disk_mb: 5120, backup_bytes: -1, backups_per_server: 2 },
      grace_days: 7,
      active: true,
      amount_cents: 0,
      currency: 'usd',
      interval: 'month' as const,
      created_at: 't',
      updated_at: 't',
    };

    const draft = draftOf(plan);

    expect(draft.quotas.backup_gib).toBe('-1');
    expect(draft.amount).toBe('0.00');
    expect(bodyOf(draft)).toMatchObject({ price_id: null, quotas: plan.quotas, metered: [] });
  });
});
