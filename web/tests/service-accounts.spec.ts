/**
 * Service accounts and key rotation, as a person does them (issue 17 item 3): an owner creates a
 * service account in the tenant's access page, gives it a key that works within its role only,
 * rolls a second key out, sees the third refused, revokes the first; then rotates their own
 * API key with a grace period and both keys work during it. axe-core checks each page.
 */
import type { APIRequestContext } from '@playwright/test';
import { checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

/** GET with a key as the bearer; the status only. */
async function statusWith(request: APIRequestContext, path: string, key: string): Promise<number> {
  const response = await request.get(path, { headers: { Authorization: `Bearer ${key}` } });
  return response.status();
}

test('a service account with two keys rotated without downtime, and a rotated personal key', async ({ page }) => {
  await signUpAndVerify(page, freshEmail('robots'));
  await createTenant(page, 'Robot Games');
  const tenantId = /\/t\/([^/]+)/.exec(page.url())?.[1];
  expect(tenantId).toBeTruthy();

  // The access page lists service accounts under the members.
  await page.getByRole('navigation', { name: en('common:nav.label') }).getByRole('link', { name: en('members:nav') }).click();
  const section = page.getByRole('region', { name: en('serviceAccounts:title') });
  await expect(section.getByText(en('serviceAccounts:list.empty'))).toBeVisible();
  await section.getByText(en('serviceAccounts:create.title')).click();
  await section.getByLabel(en('serviceAccounts:create.name'), { exact: true }).fill('deploy pipeline');
  await section.getByLabel(en('serviceAccounts:create.role')).selectOption('viewer');
  await section.getByRole('button', { name: en('serviceAccounts:create.submit') }).click();
  await expect(section.getByRole('row', { name: /deploy pipeline/ })).toBeVisible();
  await checkA11y(page, 'service accounts');

  // Its first key is shown once, and works within its role only.
  await section.getByRole('button', { name: en('serviceAccounts:list.keysNamed', { name: 'deploy pipeline' }) }).click();
  const keys = page.getByRole('region', { name: en('serviceAccounts:keys.title', { name: 'deploy pipeline' }) });
  const createKey = async (name: string): Promise<string> => {
    const form = keys.getByRole('form', { name: en('serviceAccounts:keys.createTitle') });
    if (!(await form.isVisible())) await keys.getByText(en('serviceAccounts:keys.createTitle')).click();
    await keys.getByLabel(en('serviceAccounts:keys.name'), { exact: true }).fill(name);
    await keys.getByRole('button', { name: en('serviceAccounts:keys.submit') }).click();
    const shown = page.getByTestId('new-service-key');
    await expect(shown).toHaveText(/^mhp_sa_/);
    const value = (await shown.textContent()) ?? '';
    await page.getByRole('button', { name: en('serviceAccounts:keys.hide') }).click();
    return value;
  };
  const first = await createKey('ci first');
  await checkA11y(page, 'service account keys');
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}`, first)).toBe(200);
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}/members`, first)).toBe(403); // not a viewer's
  expect(await statusWith(page.request, '/v1/me', first)).toBe(403); // no account of its own

  // A second key overlaps the first; a third is not offered while both are active.
  const second = await createKey('ci second');
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}`, second)).toBe(200);
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}`, first)).toBe(200);
  await expect(keys.getByText(en('serviceAccounts:keys.full', { max: 2 }))).toBeVisible();
  await expect(keys.getByRole('button', { name: en('serviceAccounts:keys.submit') })).toBeDisabled();

  // Revoking the first leaves only the second working.
  await keys.getByRole('button', { name: en('serviceAccounts:keys.revokeNamed', { name: 'ci first' }) }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: en('serviceAccounts:keys.revoke') }).click();
  await expect(keys.getByRole('row', { name: /ci first/ })).toContainText(/Revoked/);
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}`, first)).toBe(401);
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}`, second)).toBe(200);

  // One's own key is rotated with an hour's grace: old and new both work meanwhile.
  await page.goto('/account/api-keys');
  await page.getByText(en('apiKeys:create.title')).click();
  await page.getByLabel(en('apiKeys:create.name'), { exact: true }).fill('laptop script');
  await page.getByRole('button', { name: en('apiKeys:create.submit') }).click();
  const old = (await page.getByTestId('new-api-key').textContent()) ?? '';
  await page.getByRole('button', { name: en('apiKeys:created.done') }).click();
  await page.getByRole('button', { name: en('apiKeys:rotateNamed', { name: 'laptop script' }) }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.getByLabel(en('apiKeys:grace.label')).selectOption('3600');
  await checkA11y(page, 'rotate dialog');
  await dialog.getByRole('button', { name: en('apiKeys:rotate') }).click();
  const rotated = page.getByTestId('rotated-api-key');
  await expect(rotated).toHaveText(/^mhp_usr_/);
  const fresh = (await rotated.textContent()) ?? '';
  expect(fresh).not.toBe(old);
  // The key's default scope is servers.read: the tenant's server list is what it may read.
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}/servers`, old)).toBe(200);
  expect(await statusWith(page.request, `/v1/tenants/${tenantId}/servers`, fresh)).toBe(200);
  await expect(page.getByRole('row', { name: /laptop script/ }).first()).toBeVisible();
  await expect(page.getByText(en('apiKeys:list.rotatedOut'))).toBeVisible();
  await checkA11y(page, 'API key rotated');

  // The access page's service accounts, in German.
  await page.goto(`/t/${tenantId}/members?lng=de`);
  const german = page.getByRole('region', { name: tr('de', 'serviceAccounts:title') });
  await expect(german.getByRole('row', { name: /deploy pipeline/ })).toBeVisible();
  await german.getByRole('button', { name: tr('de', 'serviceAccounts:list.keysNamed', { name: 'deploy pipeline' }) }).click();
  await expect(page.getByRole('region', { name: tr('de', 'serviceAccounts:keys.title', { name: 'deploy pipeline' }) })).toBeVisible();
  await checkA11y(page, 'service accounts in German');
});
