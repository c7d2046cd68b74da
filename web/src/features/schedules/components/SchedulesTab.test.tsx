import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { SchedulesTab } from './SchedulesTab';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const LIST = '/v1/tenants/{tenant_id}/servers/{server_id}/schedules';
const RUNS = `${LIST}/{schedule_id}/runs`;
const schedule = (over: Record<string, unknown> = {}) => ({
  id: 'sch_1', server_id: 's1', name: 'Nightly restart',
  cron: { minute: '0', hour: '4', day_of_month: '*', month: '*', day_of_week: '*' }, timezone: 'Europe/Berlin',
  enabled: true, only_when_online: false, paused: false,
  tasks: [{ action: 'power', payload: 'restart', time_offset_seconds: 0, continue_on_failure: false }],
  next_runs: ['2026-12-06T03:00:00Z', '2026-12-07T03:00:00Z'], next_run_at: '2026-12-06T03:00:00Z',
  last_run: null, created_at: '2026-12-05T09:00:00Z', updated_at: '2026-12-05T09:00:00Z', ...over,
});

beforeEach(() => {
  resetApi();
  answer('GET', LIST, { body: { items: [schedule()], next_cursor: null } });
});

describe('SchedulesTab', () => {
  it('shows each schedule with its cron, next run and that it never ran', async () => {
    renderWithApp(<SchedulesTab tenantId="t1" serverId="s1" />);
    const card = await screen.findByRole('article', { name: 'Nightly restart' });
    expect(within(card).getByText('0 4 * * *')).toBeInTheDocument();
    expect(within(card).getByText(/^Next run:/)).toBeInTheDocument();
    expect(within(card).getByText('Has not run yet.')).toBeInTheDocument();
  });

  it('creates a schedule from the preset with the tasks as entered', async () => {
    answer('POST', LIST, (init) => ({ status: 201, body: schedule({ id: 'sch_2', name: 'Backups', sent: init }) }));
    renderWithApp(<SchedulesTab tenantId="t1" serverId="s1" />);
    await screen.findByRole('article', { name: 'Nightly restart' });
    await userEvent.type(screen.getByLabelText('Name'), 'Backups');
    await userEvent.selectOptions(screen.getByLabelText('When'), 'Every Monday at 06:00');
    await userEvent.selectOptions(screen.getByLabelText('Action'), 'Back up');
    await userEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    expect(await screen.findByText('The schedule Backups was created.', { exact: false })).toBeInTheDocument();
    const sent = calls.find((c) => c.method === 'POST')!.init.body as Record<string, unknown>;
    expect(sent.cron).toEqual({ minute: '0', hour: '6', day_of_month: '*', month: '*', day_of_week: '1' });
    expect(sent.tasks).toEqual([{ action: 'backup', payload: '', time_offset_seconds: 0, continue_on_failure: false }]);
  });

  it('puts the API error for a cron field next to it', async () => {
    answer('POST', LIST, {
      status: 400,
      body: {
        error: { code: 'VALIDATION_ERROR', message: 'cron.hour: 25 is outside 0-23', details: { fields: [{ field: 'cron.hour', message: '25 is outside 0-23', type: 'cron' }] } },
        request_id: 'r',
      },
    });
    renderWithApp(<SchedulesTab tenantId="t1" serverId="s1" />);
    await screen.findByRole('article', { name: 'Nightly restart' });
    await userEvent.type(screen.getByLabelText('Name'), 'Bad');
    await userEvent.clear(screen.getByLabelText('Hour'));
    await userEvent.type(screen.getByLabelText('Hour'), '25');
    await userEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    expect(await screen.findByText('25 is outside 0-23')).toBeInTheDocument();
    expect(screen.getByLabelText('Hour')).toHaveAttribute('aria-invalid', 'true');
  });

  it('runs a schedule now and shows its history with each task outcome', async () => {
    answer('POST', `${LIST}/{schedule_id}/run`, { status: 202, body: { run: { id: 'run_1', schedule_id: 'sch_1', status: 'running', trigger: 'manual', started_at: '2026-12-05T09:01:00Z', finished_at: null, reason: null, tasks: [] } } });
    answer('GET', RUNS, {
      body: {
        items: [{ id: 'run_1', schedule_id: 'sch_1', status: 'failed', trigger: 'manual', started_at: '2026-12-05T09:01:00Z', finished_at: '2026-12-05T09:01:05Z', reason: null,
          tasks: [{ action: 'power', status: 'failed', error: 'The node did not answer.', started_at: null, finished_at: null, backup_id: null }] }],
        next_cursor: null,
      },
    });
    renderWithApp(<SchedulesTab tenantId="t1" serverId="s1" />);
    await userEvent.click(await screen.findByRole('button', { name: 'Run now: Nightly restart' }));
    const history = await screen.findByRole('table', { name: 'Runs of Nightly restart, newest first' });
    expect(within(history).getByText('Power action: Failed')).toBeInTheDocument();
    expect(within(history).getByText('The node did not answer.')).toBeInTheDocument();
  });

  it('edits a schedule in place and sends the changed fields with the rest', async () => {
    answer('PATCH', `${LIST}/{schedule_id}`, (init) => ({ body: schedule({ name: 'Hourly restart', sent: init }) }));
    renderWithApp(<SchedulesTab tenantId="t1" serverId="s1" />);
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Nightly restart' }));
    const form = screen.getByRole('form', { name: 'Edit Nightly restart' });
    expect(within(form).getByLabelText('When')).toHaveValue('daily4');
    await userEvent.clear(within(form).getByLabelText('Name'));
    await userEvent.type(within(form).getByLabelText('Name'), 'Hourly restart');
    await userEvent.selectOptions(within(form).getByLabelText('When'), 'Every hour');
    await userEvent.click(within(form).getByRole('button', { name: 'Save changes' }));
    const sent = calls.find((c) => c.method === 'PATCH')!.init.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      name: 'Hourly restart',
      cron: { minute: '0', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' },
      timezone: 'Europe/Berlin',
      enabled: true,
      tasks: [{ action: 'power', payload: 'restart', time_offset_seconds: 0, continue_on_failure: false }],
    });
  });
});
