/**
 * Schedules (issue 14): a customer's running server on the Wings simulator gets a schedule made
 * from the "every day at 04:00" preset, with a console command; the schedule shows its next run
 * in the browser's time zone; "Run now" starts a run through the real run_schedule workflow, and
 * the history shows it succeeded with its task's outcome. axe on the page, in English and German.
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

  // A schedule from the preset, with one console command
  await page.getByLabel(en('schedules:form.name'), { exact: true }).fill('Nightly greeting');
  await page.getByLabel(en('schedules:form.preset'), { exact: true }).selectOption({ label: en('schedules:presets.daily4') });
  await expect(page.getByLabel(en('schedules:cron.hour'), { exact: true })).toHaveValue('4');
  await page.getByLabel(en('schedules:form.action'), { exact: true }).selectOption({ label: en('schedules:actions.command') });
  await page.getByLabel(en('schedules:form.command'), { exact: true }).fill('say good night');
  await page.getByRole('button', { name: en('schedules:form.submit') }).click();
  await expect(page.getByText(en('schedules:form.created', { name: 'Nightly greeting' }), { exact: false })).toBeVisible();

  const card = page.getByRole('article', { name: 'Nightly greeting' });
  await expect(card.getByText('0 4 * * *')).toBeVisible();
  await expect(card.getByText(/^Next run: /)).toBeVisible();
  await expect(card.getByText(en('schedules:list.neverRan'))).toBeVisible();
  await card.getByText(en('schedules:list.nextRuns')).click();
  await expect(card.getByRole('listitem')).toHaveCount(5);
  await checkA11y(page, 'schedules (one schedule)');

  // Run it now: the history shows the run and its task's outcome
  await card.getByRole('button', { name: en('schedules:actions.runNamed', { name: 'Nightly greeting' }) }).click();
  const history = card.getByRole('table', { name: en('schedules:history.caption', { name: 'Nightly greeting' }) });
  await expect(history).toBeVisible();
  const row = history.getByRole('row').nth(1);
  await expect(row.getByText(en('schedules:trigger.manual'))).toBeVisible();
  await expect(row.getByText(en('schedules:status.succeeded')).first()).toBeVisible({ timeout: 60_000 });
  await expect(row.getByText(`${en('schedules:actions.command')}: ${en('schedules:status.succeeded')}`)).toBeVisible();
  await expect(card.getByText(/^Last run: /)).toBeVisible();
  await checkA11y(page, 'schedules (history)');

  // The same page in German
  const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);
  await page.evaluate(() => window.localStorage.setItem('mamba.language', 'de'));
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: de('schedules:page.title', { server: 'scheduled server' }) })).toBeVisible();
  await expect(page.getByRole('article', { name: 'Nightly greeting' }).getByText(de('schedules:status.succeeded'))).toBeVisible();
  await checkA11y(page, 'schedules (de)');
});
