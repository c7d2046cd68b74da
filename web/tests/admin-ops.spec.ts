/**
 * Fleet operations in the admin console (issue 12, adm-ops): a provisioning fails (the blueprint's
 * install script breaks), the admin finds it under Operations with its failed step and cause,
 * fixes the cause, retries it and sees the server come up on the Wings simulator. On the way:
 * Servers (filter, detail, CSV), Dead letters and Audit, each checked with axe in English and
 * German. One signed-in page for the whole spec; the admin login is the local stack's seeded one.
 */
import { readFileSync } from 'node:fs';
import type { APIRequestContext, Page } from '@playwright/test';
import { adminLogin, checkA11y, en, expect, freshEmail, mailLink, PASSWORD, test, tr } from './support';

const LINE_SERVER = 'bp_line_server'; // local/blueprints: its install script runs on the simulator
// The break is a prefix, so the healthy script is always known, even after a run that was cut short.
const BREAK = '#!/bin/sh\necho "broken on purpose by the admin-ops journey"\nexit 3\n';
const healthy = (script: string) => (script.startsWith(BREAK) ? script.slice(BREAK.length) : script);

type Api = { call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, data?: unknown): Promise<T> };

/** The API as someone signed in (bearer token, JSON mode), for what the journey sets up around the console. */
async function apiAs(request: APIRequestContext, login: { email: string; password: string }): Promise<Api> {
  const signedIn = await request.post('/v1/auth/login', { data: login });
  expect(signedIn.status()).toBe(200);
  const headers = { Authorization: `Bearer ${((await signedIn.json()) as { access_token: string }).access_token}` };
  return {
    async call<T>(method: string, path: string, data?: unknown): Promise<T> {
      const response = await request.fetch(path, { method, headers, data });
      expect(response.ok(), `${method} ${path}: ${await response.text()}`).toBe(true);
      return (response.status() === 204 ? undefined : await response.json()) as T;
    },
  };
}

/** A fresh customer with their own tenant (registered and verified through the API and the mailbox). */
async function customer(request: APIRequestContext): Promise<{ api: Api; tenantId: string }> {
  const email = freshEmail('ops-customer');
  expect((await request.post('/v1/auth/register', { data: { email, password: PASSWORD } })).ok()).toBe(true);
  const token = new URLSearchParams((await mailLink(email, 'Verify', '/verify-email')).split('?')[1]).get('token');
  expect((await request.post('/v1/auth/verify-email', { data: { token } })).ok()).toBe(true);
  const api = await apiAs(request, { email, password: PASSWORD });
  const tenant = await api.call<{ id: string }>('POST', '/v1/tenants', { name: 'Ops journey' });
  return { api, tenantId: tenant.id };
}

/** A fresh load of ``path`` in German, once ``ready`` (a text of its loaded state) shows, through axe. */
async function axeInGerman(page: Page, path: string, heading: string, ready: string, where: string): Promise<void> {
  await page.goto(`${path}?lng=de`);
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  await expect(page.getByText(ready, { exact: true }).first()).toBeVisible();
  await checkA11y(page, `${where} (de)`);
}

let restore: (() => Promise<void>) | null = null;

// Runs even when the test times out: the seeded blueprint must not stay broken for later journeys.
test.afterEach(async () => {
  await restore?.();
  restore = null;
});

test('a failed provisioning is found under Operations, retried after the fix, and the server comes up', async ({ page }) => {
  const login = adminLogin();
  const api = await apiAs(page.request, login);
  const current = await api.call<{ install_script: string }>('GET', `/v1/admin/blueprints/${LINE_SERVER}`);
  const good = healthy(current.install_script);
  restore = async () => {
    await api.call('PATCH', `/v1/admin/blueprints/${LINE_SERVER}`, { install_script: good });
  };
  const owner = await customer(page.request);
  const tenant = { id: owner.tenantId };

  // Given a blueprint whose install script fails, and a server created from it
  await api.call('PATCH', `/v1/admin/blueprints/${LINE_SERVER}`, { install_script: BREAK + good });
  const created = await owner.api.call<{ server: { uuid: string; name: string }; operation: { id: string } }>('POST', `/v1/tenants/${tenant.id}/servers`, {
    name: 'retry-me',
    blueprint_id: LINE_SERVER,
    limits: { memory_mb: 256, disk_mb: 512 },
    start_on_completion: true,
  });
  const opId = created.operation.id;

  // When the admin signs in and opens Operations, filtered to the failed ones
  await page.goto('/sign-in');
  await page.getByLabel(en('auth:fields.email')).fill(login.email);
  await page.getByLabel(en('auth:fields.password')).fill(login.password);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  // Signed in, the home page moves on to a tenant by itself: open the console with a fresh load
  // rather than racing that redirect with a click.
  await expect(page.getByRole('link', { name: en('admin:nav.link'), exact: true })).toBeVisible();
  await page.goto('/admin');
  await page.getByRole('navigation', { name: en('admin:nav.label'), exact: true }).getByRole('link', { name: en('admin:nav.operations') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminOperations:list.title') })).toBeFocused();
  await page.getByLabel(en('adminOperations:filters.status')).selectOption('failed');
  await page.getByLabel(en('adminOperations:filters.type')).fill('provision_server');
  await page.getByRole('button', { name: en('adminOperations:filters.apply') }).click();
  const row = page.getByRole('row').filter({ hasText: opId });
  await expect(async () => {
    // The workflow fails within seconds; a list of finished operations only refreshes on demand.
    await page.getByRole('button', { name: en('adminOperations:list.refresh') }).click();
    await expect(row).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expect(row.getByRole('cell', { name: en('adminOperations:steps.install'), exact: true })).toBeVisible();
  await checkA11y(page, 'operations, failed');

  // Then its page names the failed state and cause, and offers the retry
  await row.getByRole('link', { name: en('adminOperations:types.provision_server') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminOperations:detail.title', { type: en('adminOperations:types.provision_server') }) })).toBeFocused();
  await expect(page.getByText('InstallFailedError')).toBeVisible();
  await expect(page.getByText('AwaitInstall')).toBeVisible();
  await checkA11y(page, 'operation, failed');

  // When the cause is fixed and the admin retries
  await restore();
  await page.getByRole('button', { name: en('adminOperations:retry.action') }).click();

  // Then the same operation runs again as attempt 2 and succeeds; the server runs on the simulator
  await expect(page.getByText(en('adminOperations:status.succeeded'), { exact: true }).first()).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole('definition').filter({ hasText: /^2$/ })).toBeVisible();
  await checkA11y(page, 'operation, retried');
  await page.getByRole('link', { name: created.server.uuid }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminServers:detail.title', { name: 'retry-me' }) })).toBeFocused();
  await expect(page.getByText(en('adminServers:status.running'), { exact: true })).toBeVisible();
  await checkA11y(page, 'server');
  const placed = await api.call<{ node: { id: string } }>('GET', `/v1/admin/servers/${created.server.uuid}`);
  const live = await api.call<{ items: { uuid: string; live: { state: string } | null }[] }>('GET', `/v1/admin/nodes/${placed.node.id}/servers?limit=100`);
  expect(live.items.find((s) => s.uuid === created.server.uuid)?.live?.state).toBe('running');

  // The force delete asks for the server's name before it can run
  await page.getByRole('button', { name: en('adminServers:actions.forceDelete') }).click();
  const dialog = page.getByRole('alertdialog', { name: en('adminServers:actions.forceDeleteConfirmTitle', { name: 'retry-me' }) });
  await expect(dialog.getByRole('button', { name: en('adminServers:actions.forceDelete') })).toBeDisabled();
  await checkA11y(page, 'force delete dialog');
  await dialog.getByRole('button', { name: en('common:actions.cancel') }).click();

  // Servers across tenants: the tenant filter finds it, and the list exports as CSV
  await page.getByRole('link', { name: en('adminServers:detail.back') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminServers:list.title') })).toBeFocused();
  await page.getByLabel(en('adminServers:filters.tenant')).fill(tenant.id);
  await page.getByRole('button', { name: en('adminServers:filters.apply') }).click();
  await expect(page.getByRole('row').filter({ hasText: created.server.uuid })).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: en('admin:csv.export') }).click()]);
  expect(download.suggestedFilename()).toBe('servers.csv');
  expect(readFileSync((await download.path())!, 'utf8')).toContain(created.server.uuid);
  await checkA11y(page, 'servers');

  // Dead letters and the audit log (the tenant's log shows the server's creation)
  await page.getByRole('navigation', { name: en('admin:nav.label'), exact: true }).getByRole('link', { name: en('admin:nav.deadLetters') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminOperations:deadLetters.title') })).toBeFocused();
  await expect(page.getByText(en('adminOperations:deadLetters.empty')).or(page.getByRole('table'))).toBeVisible();
  await checkA11y(page, 'dead letters');
  await page.getByRole('navigation', { name: en('admin:nav.label'), exact: true }).getByRole('link', { name: en('admin:nav.audit') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminAudit:title') })).toBeFocused();
  await page.getByLabel(en('adminAudit:filters.tenant')).fill(tenant.id);
  await page.getByRole('button', { name: en('adminAudit:filters.apply') }).click();
  await expect(page.getByRole('heading', { level: 2, name: en('adminAudit:shown.tenant', { tenant: tenant.id }) })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'create_server' }).first()).toBeVisible();
  await checkA11y(page, 'audit');

  // Every page again in German
  const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);
  const provision = de('adminOperations:types.provision_server');
  await axeInGerman(page, '/admin/operations', de('adminOperations:list.title'), provision, 'operations');
  await axeInGerman(page, `/admin/operations/${opId}`, de('adminOperations:detail.title', { type: provision }), de('adminOperations:steps.install'), 'operation');
  await axeInGerman(page, '/admin/servers', de('adminServers:list.title'), 'retry-me', 'servers');
  await axeInGerman(page, `/admin/servers/${created.server.uuid}`, de('adminServers:detail.title', { name: 'retry-me' }), de('adminServers:actions.forceDelete'), 'server');
  await axeInGerman(page, '/admin/dead-letters', de('adminOperations:deadLetters.title'), de('adminOperations:deadLetters.intro'), 'dead letters');
  await axeInGerman(page, '/admin/audit', de('adminAudit:title'), de('adminAudit:shown.platform'), 'audit');
});
