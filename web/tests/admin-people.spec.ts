/**
 * The admin console's tenants and users (issue 12): an operator finds a tenant, suspends it and
 * sees its server stop on the Wings simulator, lifts the suspension, and looks a user up. Every
 * page passes axe in English and in German. One signed-in page for the whole spec (journeys are lean).
 */
import type { APIRequestContext, Page } from '@playwright/test';
import { adminLogin, checkA11y, en, expect, freshEmail, mailLink, PASSWORD, test, tr } from './support';

const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);

type Json = Record<string, unknown>;

/** A fresh customer account, verified through its mail (the API; sign-up is other journeys' subject). */
async function freshCustomer(request: APIRequestContext, email: string): Promise<void> {
  const registered = await request.post('/v1/auth/register', { data: { email, password: PASSWORD, name: 'Suspended Customer' } });
  expect(registered.status(), await registered.text()).toBe(201);
  const link = new URL(await mailLink(email, 'Verify', '/verify-email'), 'http://panel');
  const verified = await request.post('/v1/auth/verify-email', { data: { token: link.searchParams.get('token') } });
  expect(verified.status(), await verified.text()).toBe(200);
}

/** The API as one account (JSON token mode): what the journey sets up is not the subject here. */
async function apiAs(request: APIRequestContext, email: string, password: string) {
  const login = await request.post('/v1/auth/login', { data: { email, password } });
  expect(login.status(), await login.text()).toBe(200);
  const headers = { Authorization: `Bearer ${((await login.json()) as Json).access_token as string}` };
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, data?: Json) => {
    const response = await request.fetch(path, { method, headers, ...(data ? { data } : {}) });
    return { status: response.status(), body: (await response.json().catch(() => ({}))) as Json };
  };
  return call;
}

async function signInAsAdmin(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(password);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByRole('link', { name: en('admin:nav.link'), exact: true })).toBeVisible();
}

test('an operator suspends a tenant and its server stops on the node; users are found and shown', async ({ page }) => {
  const { email, password } = adminLogin();
  const admin = await apiAs(page.request, email, password);
  const customerEmail = freshEmail('suspended-customer');
  await freshCustomer(page.request, customerEmail);
  const api = await apiAs(page.request, customerEmail, PASSWORD);

  // Given a customer's tenant with a running server on the simulator
  const tenantName = `Suspend journey ${Date.now()}`;
  const tenant = await api('POST', '/v1/tenants', { name: tenantName });
  expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
  const tenantId = tenant.body.id as string;
  const created = await api('POST', `/v1/tenants/${tenantId}/servers`, {
    name: 'suspend journey server',
    blueprint_id: 'bp_line_server',
    limits: { memory_mb: 256, disk_mb: 512 },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const server = created.body.server as Json;
  const serverId = server.id as string;
  const nodeId = server.node_id as string;
  const liveState = async () => {
    const listed = await admin('GET', `/v1/admin/nodes/${nodeId}/servers?limit=100`);
    const mine = (listed.body.items as Json[] | undefined)?.find((s) => s.uuid === serverId);
    return (mine?.live as Json | null | undefined) ?? null;
  };
  await expect.poll(async () => (await api('GET', `/v1/tenants/${tenantId}/servers/${serverId}`)).body.status, { timeout: 90_000 }).not.toMatch(
    /provisioning|installing/,
  );
  await api('POST', `/v1/tenants/${tenantId}/servers/${serverId}/power`, { action: 'start' });
  await expect.poll(async () => (await liveState())?.state, { timeout: 60_000 }).toBe('running');

  // When the operator finds the tenant in the console and suspends it
  await signInAsAdmin(page, email, password);
  // The header's Admin link, as a person uses it (a click while the home page still loads must win).
  await expect(async () => {
    await page.getByRole('link', { name: en('admin:nav.link'), exact: true }).click();
    await expect(page).toHaveURL(/\/admin$/, { timeout: 3_000 });
  }).toPass({ timeout: 30_000 });
  await page.getByRole('navigation', { name: en('admin:nav.label') }).getByRole('link', { name: en('admin:nav.tenants') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminTenants:list.title') })).toBeFocused();
  await checkA11y(page, 'admin tenants');
  await page.getByLabel(en('adminTenants:list.search')).fill(tenantName.toUpperCase());
  await page.getByRole('button', { name: en('adminTenants:list.searchSubmit') }).click();
  await expect(page.getByRole('link', { name: tenantName })).toHaveCount(1);
  await page.getByRole('link', { name: tenantName }).click();
  await expect(page.getByRole('heading', { level: 1, name: tenantName })).toBeFocused();
  const servers = page.getByRole('region', { name: en('adminTenants:servers.title') });
  await expect(servers.getByRole('link', { name: 'suspend journey server' })).toBeVisible();
  await checkA11y(page, 'admin tenant detail');

  await page.getByRole('button', { name: en('adminTenants:detail.suspend') }).click();
  const dialog = page.getByRole('alertdialog', { name: en('adminTenants:detail.suspendTitle', { name: tenantName }) });
  await expect(dialog).toBeVisible();
  await checkA11y(page, 'suspend tenant dialog');
  await dialog.getByRole('button', { name: en('adminTenants:detail.suspend') }).click();
  await expect(page.getByText(en('adminTenants:detail.suspendedNotice'))).toBeVisible();

  // Then the server stops and is suspended on the node (the simulator), and the page shows it
  await expect.poll(async () => liveState(), { timeout: 60_000 }).toMatchObject({ state: 'offline', is_suspended: true });
  await expect(servers.getByText(en('servers:status.suspended'), { exact: true })).toBeVisible();

  // The export answers a download link of the tenant's records
  await page.getByRole('button', { name: en('adminTenants:export.start') }).click();
  await expect(page.getByRole('link', { name: en('adminTenants:export.download') })).toBeVisible();

  // Lifting the suspension gives the tenant back (its server is then deleted: the node is shared)
  await page.getByRole('button', { name: en('adminTenants:detail.unsuspend') }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: en('adminTenants:detail.unsuspend') }).click();
  await expect(page.getByText(en('adminTenants:detail.unsuspendedNotice'))).toBeVisible();
  await expect.poll(async () => (await liveState())?.is_suspended, { timeout: 60_000 }).toBe(false);
  await api('DELETE', `/v1/tenants/${tenantId}/servers/${serverId}`);

  // Users: find the tenant's owner and open the account; then the admin's own, protected from themselves
  await page.getByRole('navigation', { name: en('admin:nav.label') }).getByRole('link', { name: en('admin:nav.users') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminUsers:list.title') })).toBeFocused();
  await checkA11y(page, 'admin users');
  await page.getByLabel(en('adminUsers:list.search')).fill(customerEmail.toUpperCase());
  await page.getByRole('button', { name: en('adminUsers:list.searchSubmit') }).click();
  await expect(page.getByRole('table').getByRole('link')).toHaveCount(1);
  await page.getByRole('table').getByRole('link', { name: customerEmail, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: customerEmail })).toBeFocused();
  await expect(page.getByRole('link', { name: tenantId })).toBeVisible();
  await expect(page.getByRole('button', { name: en('adminUsers:detail.makeAdmin') })).toBeEnabled();
  await expect(page.getByRole('button', { name: en('adminUsers:reset.open') })).toBeDisabled();
  await expect(page.getByText(en('adminUsers:reset.noTwoFactor'))).toBeVisible();
  await checkA11y(page, 'admin user detail');
  await page.getByRole('link', { name: en('adminUsers:detail.back') }).click();
  await page.getByRole('table').getByRole('link', { name: email, exact: true }).click();
  await expect(page.getByRole('button', { name: en('adminUsers:detail.revokeAdmin') })).toBeDisabled();
  await expect(page.getByText(en('adminUsers:detail.selfHint'))).toBeVisible();

  // Application keys (issue 16): a ptla_ key for a billing system, shown once, then revoked
  await page.getByRole('navigation', { name: en('admin:nav.label') }).getByRole('link', { name: en('admin:nav.applicationKeys') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminApplicationKeys:title') })).toBeFocused();
  const keyName = `Journey WHMCS ${Date.now()}`;
  await page.getByText(en('adminApplicationKeys:create.title'), { exact: true }).click();
  await page.getByLabel(en('adminApplicationKeys:create.name')).fill(keyName);
  await page.getByLabel(en('adminApplicationKeys:resources.servers'), { exact: true }).selectOption('read-write');
  await page.getByRole('button', { name: en('adminApplicationKeys:create.submit') }).click();
  await expect(page.getByTestId('new-application-key')).toContainText('ptla_');
  await checkA11y(page, 'admin application keys');
  await page.getByRole('button', { name: en('adminApplicationKeys:created.done') }).click();
  await page.getByRole('button', { name: en('adminApplicationKeys:revokeNamed', { name: keyName }) }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: en('adminApplicationKeys:revoke') }).click();
  await expect(page.getByText(en('adminApplicationKeys:revoked', { name: keyName }))).toBeVisible();

  // The same pages in German, with no missing key and no axe finding
  await page.evaluate(() => localStorage.setItem('mamba.language', 'de'));
  for (const [path, heading] of [
    ['/admin/tenants', de('adminTenants:list.title')],
    [`/admin/tenants/${tenantId}`, tenantName],
    ['/admin/application-keys', de('adminApplicationKeys:title')],
    ['/admin/users', de('adminUsers:list.title')],
  ] as const) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'de');
    await checkA11y(page, `${path} (de)`);
  }
  await page.getByRole('table').getByRole('link', { name: email, exact: true }).click();
  await expect(page.getByRole('button', { name: de('adminUsers:detail.revokeAdmin') })).toBeDisabled();
  await checkA11y(page, 'admin user detail (de)');
});
