/**
 * The admin console's fleet pages (issue 12): the overview and the nodes. One signed-in admin
 * page for the whole spec: enrol a new node through the UI, start a Wings simulator with the
 * config.yml the page downloads, and see the node come online; then drain it, add and delete
 * allocations, and delete it. axe on every page in English and German.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { adminLogin, checkA11y, en, expect, test, tr } from './support';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = process.env.SCREENSHOT_DIR; // set by hand to look at every page (docs/web.md)

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The API's way, for the clean-up after a failure only (the journey itself deletes through the console). */
async function deleteNode(page: Page, admin: { email: string; password: string }, nodeId: string): Promise<void> {
  const login = await page.request.post('/v1/auth/login', { data: admin });
  const token = ((await login.json()) as { access_token: string }).access_token;
  await page.request.delete(`/v1/admin/nodes/${encodeURIComponent(nodeId)}`, { headers: { Authorization: `Bearer ${token}` } });
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Every admin page this spec owns, checked in German: no missing key, no axe violation. */
async function germanPass(page: Page, nodePath: string): Promise<void> {
  const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);
  await page.goto('/admin?lng=de');
  await expect(page.getByRole('heading', { level: 1, name: de('adminOverview:title') })).toBeVisible();
  await expect(page.getByText(de('adminOverview:refreshHint'))).toBeVisible();
  await checkA11y(page, 'overview (de)');
  await shot(page, 'overview-de');
  await page.getByRole('navigation', { name: de('admin:nav.label') }).getByRole('link', { name: de('admin:nav.nodes') }).click();
  await expect(page.getByRole('heading', { level: 1, name: de('adminNodes:list.title') })).toBeFocused();
  await checkA11y(page, 'nodes (de)');
  await shot(page, 'nodes-de');
  await page.getByRole('link', { name: de('adminNodes:list.add') }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: de('adminNodes:create.title') })).toBeFocused();
  await checkA11y(page, 'add a node (de)');
  await shot(page, 'node-new-de');
  await page.goto(`${nodePath}?lng=de`);
  await expect(page.getByRole('heading', { level: 2, name: de('adminNodes:allocations.title') })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: de('adminNodes:servers.title'), exact: true })).toBeVisible();
  await checkA11y(page, 'node (de)');
  await shot(page, 'node-de');
  await page.goto('/admin?lng=en');
  await expect(page.getByRole('heading', { level: 1, name: en('adminOverview:title') })).toBeVisible();
}

test('an admin enrols a node in the console and sees it come online on a Wings simulator', async ({ page }) => {
  const admin = adminLogin();
  const nodeName = `Journey node ${Date.now()}`;
  const data = mkdtempSync(join(tmpdir(), 'admin-fleet-'));
  let wings: ChildProcess | undefined;
  let wingsLog = '';
  let enrolled: string | null = null; // the journey's node until the console has deleted it
  try {
    // Given the platform admin signed in
    await page.goto('/sign-in?lng=en');
    await page.getByLabel(en('auth:fields.email')).fill(admin.email);
    await page.getByLabel(en('auth:fields.password')).fill(admin.password);
    await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
    // Signed in once the header offers "Admin"; then straight to the console (a fresh load: the
    // home page's own redirect to a tenant cannot race the click).
    await expect(page.getByRole('link', { name: en('admin:nav.link'), exact: true })).toBeVisible();
    await page.goto('/admin');

    // The overview: every figure, when it was read, and its links
    await expect(page.getByRole('heading', { level: 1, name: en('adminOverview:title') })).toBeVisible();
    await expect(page.getByRole('heading', { level: 2, name: en('adminOverview:attention.title') })).toBeVisible();
    const updated = page.getByText(/^Updated at /);
    await expect(updated).toBeVisible();
    await expect(page.getByRole('link', { name: /nodes?$/ })).toHaveAttribute('href', '/admin/nodes');
    await checkA11y(page, 'overview');
    await shot(page, 'overview');
    // A figure opens its list already filtered (here the operations page, with "failed" chosen)
    await page.getByRole('link', { name: new RegExp(`^${en('adminOverview:attention.failedOperations').replace(/[()]/g, '\\$&')}: `) }).click();
    await expect(page).toHaveURL(/\/admin\/operations\?status=failed$/);
    await expect(page.getByLabel(en('adminOperations:filters.status'), { exact: true })).toHaveValue('failed');
    await page.goBack();
    await expect(page.getByRole('heading', { level: 1, name: en('adminOverview:title') })).toBeVisible();

    // When they add a node through the form (the simulator's scheme is http, its files in a temp dir)
    const port = await freePort();
    await page.getByRole('navigation', { name: en('admin:nav.label') }).getByRole('link', { name: en('admin:nav.nodes') }).click();
    await expect(page.getByRole('heading', { level: 1, name: en('adminNodes:list.title') })).toBeFocused();
    await expect(page.getByRole('link', { name: 'Local simulator' })).toBeVisible();
    await checkA11y(page, 'nodes');
    await shot(page, 'nodes');
    await page.getByRole('link', { name: en('adminNodes:list.add') }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: en('adminNodes:create.title') })).toBeFocused();
    await checkA11y(page, 'add a node');
    await page.getByLabel(en('adminNodes:form.name'), { exact: true }).fill(nodeName);
    await page.getByLabel(en('adminNodes:form.location'), { exact: true }).fill('journey');
    await page.getByLabel(en('adminNodes:form.fqdn'), { exact: true }).fill('127.0.0.1');
    await page.getByLabel(en('adminNodes:form.scheme'), { exact: true }).selectOption('http');
    await page.getByLabel(en('adminNodes:form.daemonPort'), { exact: true }).fill(String(port));
    await page.getByLabel(en('adminNodes:form.daemonBase'), { exact: true }).fill(data);
    await page.getByLabel(en('adminNodes:form.memory'), { exact: true }).fill('');
    // An empty required number is refused by the API, next to its input
    await page.getByLabel(en('adminNodes:form.disk'), { exact: true }).fill('2048');
    await page.getByRole('button', { name: en('adminNodes:create.submit') }).click();
    await expect(page.getByText(en('adminNodes:form.fixFields'))).toBeVisible();
    await page.getByLabel(en('adminNodes:form.memory'), { exact: true }).fill('1024');
    await page.getByRole('button', { name: en('adminNodes:create.submit') }).click();

    // Then the node's page says what to do next, and the node is not reached yet
    await expect(page.getByRole('heading', { level: 1, name: nodeName })).toBeFocused();
    await expect(page.getByText(en('adminNodes:create.done', { name: nodeName }))).toBeVisible();
    await checkA11y(page, 'new node');
    const nodePath = new URL(page.url()).pathname;
    enrolled = decodeURIComponent(nodePath.split('/').pop() ?? '');

    // When they download its config.yml and start Wings (the simulator) with it
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: en('adminNodes:setup.download') }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('config.yml');
    const config = join(data, 'config.yml');
    await download.saveAs(config);
    expect(readFileSync(config, 'utf8')).toContain(`port: ${port}`);
    await page.getByRole('button', { name: en('adminNodes:setup.showCommand') }).click();
    await expect(page.getByText(/base64 -d \| sudo tee \/etc\/pterodactyl\/config.yml/)).toBeVisible();
    await checkA11y(page, 'node with its setup command');
    await shot(page, 'node-new');
    wings = spawn(process.env.PYTHON ?? join(ROOT, '.venv/bin/python'), ['-m', 'local.wings_sim', '--config', config, '--watch-parent'], {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: `${join(ROOT, 'layers/core')}:${ROOT}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    wings.stderr?.on('data', (chunk: Buffer) => {
      wingsLog += chunk.toString();
    });

    // Then the node comes online once the health schedule has reached it, with the simulator's version
    await expect(page.getByText(en('adminNodes:health.online'), { exact: true })).toBeVisible({ timeout: 90_000 });
    await expect(page.getByText(en('adminNodes:servers.empty'))).toBeVisible();

    // The keyboard: Enter opens the drain confirmation, Escape closes it and focus comes back
    const drainButton = page.getByRole('button', { name: en('adminNodes:actions.drain'), exact: true });
    await drainButton.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('alertdialog')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('alertdialog')).toHaveCount(0);
    await expect(drainButton).toBeFocused();

    // When they drain it (no placements while the journey adds ports), add a range and delete one port
    await drainButton.click();
    const drain = page.getByRole('alertdialog');
    await checkA11y(page, 'drain dialog');
    await drain.getByRole('button', { name: en('adminNodes:actions.drain') }).click();
    await expect(page.getByText(en('adminNodes:drain.done_other', { count: 0 }))).toBeVisible();
    await expect(page.getByText(en('adminNodes:maintenance.badge'), { exact: true })).toBeVisible();
    await page.getByLabel(en('adminNodes:allocations.ports'), { exact: true }).fill('41000-41002, 41010');
    await page.getByRole('button', { name: en('adminNodes:allocations.add') }).click();
    await expect(page.getByText(en('adminNodes:allocations.added_other', { count: 4 }))).toBeVisible();
    const allocations = page.getByRole('table', { name: en('adminNodes:allocations.title') });
    await expect(allocations.getByRole('row')).toHaveCount(5);
    await expect(allocations.getByRole('cell', { name: en('adminNodes:allocations.free') })).toHaveCount(4);
    await page.getByRole('button', { name: en('adminNodes:allocations.deleteNamed', { address: '127.0.0.1:41010' }) }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: en('adminNodes:allocations.delete') }).click();
    await expect(page.getByText(en('adminNodes:allocations.deleted', { address: '127.0.0.1:41010' }))).toBeVisible();
    await expect(allocations.getByRole('row')).toHaveCount(4);
    await checkA11y(page, 'node online');
    await shot(page, 'node');

    // The list shows it online, in maintenance, with its bars
    await page.getByRole('link', { name: en('adminNodes:backToList') }).click();
    const row = page.getByRole('row', { name: new RegExp(nodeName) });
    await expect(row.getByText(en('adminNodes:health.online'), { exact: true })).toBeVisible();
    await expect(row.getByText(en('adminNodes:maintenance.badge'), { exact: true })).toBeVisible();
    await expect(row.getByRole('meter', { name: en('adminNodes:columns.memoryOf', { name: nodeName }) })).toBeVisible();

    // The seeded node's page shows its servers' live state and who holds each allocation
    await page.getByRole('link', { name: 'Local simulator' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Local simulator' })).toBeFocused();
    await expect(page.getByRole('table', { name: en('adminNodes:allocations.title') })).toBeVisible();
    await checkA11y(page, 'seeded node');

    await germanPass(page, nodePath);

    // Finally the journey's node is deleted through the console (its allocations go with it)
    await page.goto(nodePath);
    await page.getByRole('button', { name: en('adminNodes:actions.delete') }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: en('adminNodes:actions.delete') }).click();
    await expect(page.getByRole('heading', { level: 1, name: en('adminNodes:list.title') })).toBeVisible();
    await expect(page.getByRole('link', { name: nodeName })).toHaveCount(0);
    enrolled = null;
  } catch (error) {
    // The simulator's own account of a failed boot (a refused token, a port in use) goes with the report.
    if (wingsLog) await test.info().attach('wings-sim stderr', { body: wingsLog });
    throw error;
  } finally {
    wings?.kill('SIGTERM');
    // A journey that failed half-way leaves no node behind for the next ones (placement would use it).
    if (enrolled) await deleteNode(page, admin, enrolled).catch(() => undefined);
    rmSync(data, { recursive: true, force: true });
  }
});
