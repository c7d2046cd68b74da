/**
 * Usage history (issue 13): a customer's running server on the Wings simulator gets its first
 * samples from the reconcile; the server's Metrics tab charts them, shows them as a table and
 * downloads them as CSV, all by keyboard; the events list says there were no crashes. The same
 * page in German. Then the platform admin sees the node's totals on the admin node page.
 * axe on every page. SCREENSHOT_DIR (set by hand) keeps a picture of each (docs/web.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { adminLogin, checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

const LINE_SERVER = 'Mamba Line Server';
const SHOTS = process.env.SCREENSHOT_DIR;
// The reconcile writes a node's minute at most once a minute: a new server's first point can
// take a little over a minute to show.
const FIRST_POINT_MS = 150_000;

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function createRunningServer(page: Page, name: string): Promise<void> {
  await page.getByRole('link', { name: en('dashboard:servers.create') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('servers:CreateServer.title') })).toBeFocused();
  await page.getByLabel(en('servers:create.blueprint')).selectOption({ label: LINE_SERVER });
  await page.getByLabel(en('servers:create.name')).fill(name);
  await page.getByLabel(en('servers:create.memory')).fill('256'); // journeys share the local node
  await page.getByRole('button', { name: en('servers:create.submit') }).click();
  await expect(page.getByText(en('servers:progress.running'))).toBeVisible({ timeout: 90_000 });
  await page.getByRole('link', { name: en('servers:progress.open') }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeFocused();
}

test('a running server charts its usage, as a table and as CSV, by keyboard and in German', async ({ page }, info) => {
  test.setTimeout(420_000);
  await signUpAndVerify(page, freshEmail('metrics'));
  await createTenant(page, 'Metrics Games');
  await createRunningServer(page, 'charted server');

  // The Metrics tab of the server page
  await page.getByRole('navigation', { name: en('servers:tabs.label') }).getByRole('link', { name: en('metrics:tab') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('metrics:page.title', { server: 'charted server' }) })).toBeFocused();
  const history = page.getByRole('region', { name: en('metrics:serverTitle') });
  const periods = history.getByRole('group', { name: en('metrics:period.label') });
  await expect(periods.getByRole('radio', { name: en('metrics:period.24h') })).toBeChecked();

  // The first samples arrive from the reconcile (once a minute); a person reloads to see them.
  // Each chart says its latest and highest value.
  const cpu = history.getByRole('img', { name: /^CPU: CPU latest .+ %, peak .+ %$/ });
  await expect(async () => {
    await page.reload();
    await expect(cpu).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: FIRST_POINT_MS, intervals: [5_000] });
  await expect(history.getByText(/One point every 5 minutes/)).toBeVisible();

  // By keyboard: the arrow keys move the period (a radio group), Tab goes on to the buttons.
  await periods.getByRole('radio', { name: en('metrics:period.24h') }).focus();
  await page.keyboard.press('ArrowLeft');
  await expect(periods.getByRole('radio', { name: en('metrics:period.1h') })).toBeChecked();
  await expect(periods.getByRole('radio', { name: en('metrics:period.1h') })).toBeFocused();
  await expect(history.getByText(/One point every minute/)).toBeVisible();
  await expect(cpu).toBeVisible();
  await expect(history.getByRole('img', { name: new RegExp(`^${en('metrics:chart.memory')}: ${en('metrics:series.memory')} latest .+, peak`) })).toBeVisible();
  await expect(history.getByRole('img', { name: new RegExp(`^${en('metrics:chart.network')}: `) })).toBeVisible();
  await expect(history.getByRole('img', { name: new RegExp(`^${en('metrics:chart.disk')}: `) })).toBeVisible();
  await expect(history.locator('canvas').first()).toBeVisible(); // uPlot drew (its chunk loaded)
  await checkA11y(page, 'server metrics');
  await shot(page, 'server-metrics-en');

  // The same numbers as a table, opened with the keyboard
  await page.keyboard.press('Tab');
  await expect(history.getByRole('button', { name: en('metrics:table.show') })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(history.getByRole('button', { name: en('metrics:table.hide') })).toHaveAttribute('aria-expanded', 'true');
  const table = history.getByRole('table', { name: /Samples of the last 1 hour, one every minute/ });
  await expect(table).toBeVisible();
  await expect(table.getByRole('row').nth(1)).toContainText(en('metrics:state.running'));
  await expect(table.getByRole('row').nth(1)).toContainText('%');
  await checkA11y(page, 'server metrics with the table');
  await shot(page, 'server-metrics-table-en');

  // The CSV of the same period, downloaded with the keyboard
  await page.keyboard.press('Tab');
  await expect(history.getByRole('button', { name: en('metrics:csv.download') })).toBeFocused();
  const downloading = page.waitForEvent('download');
  await page.keyboard.press('Enter');
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('charted-server-metrics-1h.csv');
  const saved = info.outputPath('metrics.csv');
  await download.saveAs(saved);
  const lines = readFileSync(saved, 'utf8').trim().split(/\r?\n/);
  expect(lines[0]).toBe('t,cpu_percent,memory_bytes,memory_limit_bytes,rx_bytes,tx_bytes,disk_bytes,state');
  expect(lines.length).toBeGreaterThan(1);
  expect(lines.at(-1)).toMatch(/^\d+,[\d.]+,\d+,\d+,\d+,\d+,\d+,running$/);
  await expect(history.getByText(en('metrics:csv.done'))).toBeVisible();
  // The table and the CSV are the same points
  await expect(table.getByRole('row')).toHaveCount(lines.length);

  // No crash, so no event yet
  const events = page.getByRole('region', { name: en('metrics:events.title') });
  await expect(events.getByText(en('metrics:events.empty'))).toBeVisible();

  // The same page in German
  const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);
  await page.goto(`${new URL(page.url()).pathname}?lng=de`);
  await expect(page.getByRole('heading', { level: 1, name: de('metrics:page.title', { server: 'charted server' }) })).toBeVisible();
  const verlauf = page.getByRole('region', { name: de('metrics:serverTitle') });
  await verlauf.getByRole('radio', { name: de('metrics:period.1h') }).check();
  await expect(verlauf.getByRole('img', { name: /^CPU: CPU zuletzt .+ %, höchstens .+ %$/ })).toBeVisible();
  await verlauf.getByRole('button', { name: de('metrics:table.show') }).click();
  await expect(verlauf.getByRole('table', { name: /Messwerte der letzten 1 Stunde, einer pro Minute/ })).toBeVisible();
  await expect(page.getByRole('region', { name: de('metrics:events.title') }).getByText(de('metrics:events.empty'))).toBeVisible();
  await checkA11y(page, 'server metrics (de)');
  await shot(page, 'server-metrics-de');
});

test("the admin node page charts the node's totals", async ({ page }) => {
  test.setTimeout(300_000);
  const { email, password } = adminLogin();
  await page.goto('/sign-in');
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(password);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByRole('button', { name: en('common:nav.signOut') })).toBeVisible();

  // The seeded node runs the servers of the journeys
  await page.goto('/admin/nodes');
  await expect(page.getByRole('heading', { level: 1, name: en('adminNodes:list.title') })).toBeVisible();
  await page.getByRole('table').getByRole('link').first().click();
  const history = page.getByRole('region', { name: en('metrics:nodeTitle') });
  await expect(history).toBeVisible();
  await history.getByRole('radio', { name: en('metrics:period.1h') }).check();
  await expect(history.getByRole('img', { name: /^CPU: CPU latest .+ %, peak .+ %$/ })).toBeVisible({ timeout: FIRST_POINT_MS });
  await history.getByRole('button', { name: en('metrics:table.show') }).click();
  await expect(history.getByRole('table').getByRole('row').nth(1)).toContainText(en('metrics:state.online'));
  await checkA11y(page, 'node metrics');
  await shot(page, 'node-metrics-en');

  const de = (key: string) => tr('de', key);
  await page.goto(`${new URL(page.url()).pathname}?lng=de`);
  const verlauf = page.getByRole('region', { name: de('metrics:nodeTitle') });
  await verlauf.getByRole('radio', { name: de('metrics:period.1h') }).check();
  await expect(verlauf.getByRole('img', { name: /^CPU: CPU zuletzt/ })).toBeVisible();
  await checkA11y(page, 'node metrics (de)');
  await shot(page, 'node-metrics-de');
});
