/**
 * Schedules (issue 14): a customer's running server on the Wings simulator gets a schedule made
 * from the "every day at 04:00" preset: stop the server, then a console command 1 s later; the
 * schedule shows its next runs in the browser's time zone; "Run now" starts a run through the real
 * run_schedule workflow; the history shows the stop succeeded and the command failed with Wings'
 * reason (a stopped server takes no commands), and the bell brings the schedule.failed
 * notification it raised. axe on the page, in English and German.
 */
import { checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

const LINE_SERVER = 'Mamba Line Server';

test('create a schedule from the preset, run it now and see its history', async ({ page }) => {
  await page.goto('/');
  await signUpAndVerify(page, freshEmail('schedules'));
  await createTenant(page, 'Schedules Co');

  // A running server on the simulator
  await page.getByRole('link', { name: en('dashboard:servers.create') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('servers:CreateServer.title') })).toBeFocused();
  await page.getByLabel(en('servers:create.blueprint')).selectOption({ label: LINE_SERVER });
  await page.getByLabel(en('servers:create.name')).fill('scheduled server');
  await page.getByLabel(en('servers:create.memory')).fill('256'); // journeys share the local node
  await page.getByRole('button', { name: en('servers:create.submit') }).click();
  await expect(page.getByText(en('servers:progress.running'))).toBeVisible({ timeout: 90_000 });
  await page.getByRole('link', { name: en('servers:progress.open') }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'scheduled server' })).toBeFocused();

  // The Schedules tab, empty at first
  await page.getByRole('navigation', { name: en('servers:tabs.label') }).getByRole('link', { name: en('schedules:tab') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('schedules:page.title', { server: 'scheduled server' }) })).toBeFocused();
  await expect(page.getByText(en('schedules:list.empty'))).toBeVisible();
  await checkA11y(page, 'schedules (empty)');

  // A schedule from the preset: stop the server, then a console command
  await page.getByLabel(en('schedules:form.name'), { exact: true }).fill('Nightly greeting');
  await page.getByLabel(en('schedules:form.preset'), { exact: true }).selectOption({ label: en('schedules:presets.daily4') });
  await expect(page.getByLabel(en('schedules:cron.hour'), { exact: true })).toHaveValue('4');
  await page.getByLabel(en('schedules:form.action'), { exact: true }).selectOption({ label: en('schedules:actions.power') });
  await page.getByLabel(en('schedules:form.powerAction'), { exact: true }).selectOption({ label: en('schedules:power.stop') });
  await page.getByRole('button', { name: en('schedules:form.addTask') }).click();
  const second = page.getByRole('group', { name: en('schedules:form.task', { n: 2 }) });
  await second.getByLabel(en('schedules:form.action'), { exact: true }).selectOption({ label: en('schedules:actions.command') });
  await second.getByLabel(en('schedules:form.command'), { exact: true }).fill('say good night');
  await second.getByLabel(en('schedules:form.offset'), { exact: true }).fill('1');
  await page.getByRole('button', { name: en('schedules:form.submit') }).click();
  await expect(page.getByText(en('schedules:form.created', { name: 'Nightly greeting' }), { exact: false })).toBeVisible();

  const card = page.getByRole('article', { name: 'Nightly greeting' });
  await expect(card.getByText('0 4 * * *')).toBeVisible();
  await expect(card.getByText(new RegExp(`^${en('schedules:list.nextRun', { when: '' })}`))).toBeVisible();
  await expect(card.getByText(en('schedules:list.neverRan'))).toBeVisible();
  await card.getByText(en('schedules:list.nextRuns')).click();
  await expect(card.getByRole('listitem')).toHaveCount(5);
  await checkA11y(page, 'schedules (one schedule)');

  // Run it now: the history shows the run and each task's outcome, the failure with its reason
  await card.getByRole('button', { name: en('schedules:actions.runNamed', { name: 'Nightly greeting' }) }).click();
  const history = card.getByRole('table', { name: en('schedules:history.caption', { name: 'Nightly greeting' }) });
  await expect(history).toBeVisible();
  const row = history.getByRole('row').nth(1);
  await expect(row.getByText(en('schedules:trigger.manual'))).toBeVisible();
  await expect(row.getByText(`${en('schedules:actions.power')}: ${en('schedules:status.succeeded')}`)).toBeVisible({ timeout: 60_000 });
  await expect(row.getByText(`${en('schedules:actions.command')}: ${en('schedules:status.failed')}`)).toBeVisible({ timeout: 60_000 });
  await expect(row.getByText('Cannot send commands to a stopped server instance.')).toBeVisible();
  await expect(card.getByText(new RegExp(`^${en('schedules:list.lastRun', { when: '' })}`))).toContainText(en('schedules:status.failed'));
  await checkA11y(page, 'schedules (history)');

  // The bell brings the notification the failed task raised
  await page.getByRole('link', { name: /^Notifications, \d+ unread$/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('notifications:title') })).toBeVisible();
  const raised = page.getByRole('heading', {
    name: en('notifications:types.schedule.failed.title', { schedule_name: 'Nightly greeting', server_name: 'scheduled server' }),
  });
  await expect
    .poll(
      async () => {
        if ((await raised.count()) === 0) await page.reload();
        return raised.count();
      },
      { timeout: 60_000, intervals: [2_000] },
    )
    .toBeGreaterThan(0);
  await page.goBack();

  // The same page in German
  const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);
  await page.evaluate(() => window.localStorage.setItem('mamba.language', 'de'));
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: de('schedules:page.title', { server: 'scheduled server' }) })).toBeVisible();
  await expect(page.getByRole('article', { name: 'Nightly greeting' }).getByText(new RegExp(`^${de('schedules:list.lastRun', { when: '' })}`))).toContainText(de('schedules:status.failed'));
  await checkA11y(page, 'schedules (de)');
});
