/**
 * The admin console's catalog (issue 12): a platform admin imports an egg file (previewing its
 * variables first), edits a variable's rules, creates and archives a plan; a customer then creates
 * a server from the imported blueprint on the Wings simulator, and the blueprint can no longer be
 * deleted (the reason is shown). axe-core checks every catalog page in English and German.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIRequestContext, Page } from '@playwright/test';
import { adminLogin, checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

async function signInAsAdmin(page: Page): Promise<void> {
  const { email, password } = adminLogin();
  await page.goto('/sign-in');
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(password);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByRole('button', { name: en('common:nav.signOut') })).toBeVisible();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: en('common:nav.signOut') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signIn.title') })).toBeVisible();
}

/**
 * A monthly USD price in the local Stripe, named price_<lookupKey> by it: with billing on, the panel
 * checks a plan's prices at Stripe and refuses one it does not hold (422 PLAN_PRICE_INVALID), so
 * the journey makes its plan's price first, as an operator does in the Stripe dashboard.
 */
async function localStripePrice(request: APIRequestContext, lookupKey: string): Promise<string> {
  const stack = JSON.parse(readFileSync(join(process.env.MAIL_DIR ?? '.', '..', 'stack.json'), 'utf8')) as { stripe?: string };
  if (!stack.stripe) throw new Error('the local stack runs without billing (stack.json has no "stripe")');
  const made = await request.post(`${stack.stripe}/v1/prices`, {
    headers: { Authorization: 'Bearer sk_test_journey' },
    form: { currency: 'usd', unit_amount: '450', 'recurring[interval]': 'month', 'product_data[name]': 'Journey plan', lookup_key: lookupKey },
  });
  expect(made.ok()).toBeTruthy();
  return ((await made.json()) as { id: string }).id;
}

/** A small egg the simulator runs without an install script: it greets, says ready and echoes. */
function egg(name: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      meta: { version: 'PTDL_v2', update_url: null },
      name,
      author: 'journeys@example.com',
      description: 'Echoes what it is told.',
      features: null,
      docker_images: { 'Debian 12': 'debian:12-slim' },
      file_denylist: [],
      startup: 'echo "{{GREETING}}, echo ready"; while read line; do echo "echo: $line"; done',
      config: { files: '{}', startup: '{"done": "echo ready"}', logs: '{}', stop: '^C' },
      scripts: { installation: { script: '#!/bin/bash\necho nothing to install', container: 'debian:12-slim', entrypoint: 'bash' } },
      variables: [
        {
          name: 'Greeting',
          description: 'The first line the server prints.',
          env_variable: 'GREETING',
          default_value: 'Hello',
          user_viewable: true,
          user_editable: true,
          rules: 'required|string|max:40',
          field_type: 'text',
        },
      ],
    }),
  );
}

test('import an egg, a customer runs a server from it, plans are created and archived', async ({ page, request }) => {
  const name = `Echo egg ${Date.now()}`;
  await signInAsAdmin(page);

  // Import: choose the file, see its variables before anything is saved, then import.
  await page.goto('/admin/blueprints');
  await expect(page.getByRole('heading', { level: 1, name: en('adminBlueprints:list.title') })).toBeVisible();
  await checkA11y(page, 'blueprints');
  await page.getByLabel(en('adminBlueprints:import.file')).setInputFiles({ name: 'egg-echo.json', mimeType: 'application/json', buffer: egg(name) });
  const preview = page.getByRole('region', { name: en('adminBlueprints:import.previewTitle', { name }) });
  await expect(preview.getByRole('rowheader', { name: /Greeting/ })).toBeVisible();
  await expect(preview).toContainText('required|string|max:40');
  await checkA11y(page, 'blueprints with an egg preview');
  await page.getByRole('button', { name: en('adminBlueprints:import.save') }).click();

  // The blueprint's page: nobody uses it yet; tighten the variable's rule and save.
  await expect(page.getByRole('heading', { level: 1, name })).toBeFocused();
  const blueprintUrl = page.url();
  await expect(page.getByText(en('adminBlueprints:detail.usedBy_other', { count: 0 }))).toBeVisible();
  await expect(page.getByRole('button', { name: en('adminBlueprints:detail.delete') })).toBeEnabled();
  await checkA11y(page, 'blueprint');
  const greeting = page.getByRole('group', { name: 'Greeting' });
  await greeting.getByLabel(en('adminBlueprints:variables.rules')).fill('required|string|max:20');
  await page.getByRole('button', { name: en('adminBlueprints:edit.save') }).click();
  await expect(page.getByText(en('adminBlueprints:edit.saved'))).toBeVisible();
  await expect(page.getByRole('table', { name: en('adminBlueprints:variables.caption') })).toContainText('required|string|max:20');

  // Plans: create one, then archive it after confirming.
  const planId = `journey${Date.now()}`;
  const priceId = await localStripePrice(request, planId);
  await page.getByRole('navigation', { name: en('admin:nav.label') }).getByRole('link', { name: en('admin:nav.plans') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('adminPlans:title') })).toBeFocused();
  await checkA11y(page, 'plans');
  await page.getByRole('button', { name: en('adminPlans:list.create') }).click();
  await expect(page.getByRole('heading', { name: en('adminPlans:form.createTitle') })).toBeFocused();
  await page.getByLabel(en('adminPlans:form.id'), { exact: true }).fill(planId);
  await page.getByLabel(en('adminPlans:form.name'), { exact: true }).fill('Journey plan');
  await page.getByLabel(en('adminPlans:form.amount'), { exact: true }).fill('4.50');
  await page.getByLabel(en('adminPlans:form.priceId'), { exact: true }).fill(priceId);
  await page.getByLabel(en('adminPlans:quotas.servers'), { exact: true }).fill('3');
  await checkA11y(page, 'plans with the create form');
  await page.getByRole('button', { name: en('adminPlans:form.create') }).click();
  await expect(page.getByText(en('adminPlans:form.created', { name: 'Journey plan' }))).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: planId });
  await expect(row).toContainText(en('adminPlans:state.active'));
  await row.getByRole('button', { name: en('adminPlans:list.archiveNamed', { name: 'Journey plan' }) }).click();
  const dialog = page.getByRole('alertdialog', { name: en('adminPlans:archive.title', { name: 'Journey plan' }) });
  await checkA11y(page, 'archive a plan');
  await dialog.getByRole('button', { name: en('adminPlans:list.archive') }).click();
  await expect(row).toContainText(en('adminPlans:state.archived'));

  // The same pages in German.
  await page.goto('/admin/plans?lng=de');
  await expect(page.getByRole('heading', { level: 1, name: tr('de', 'adminPlans:title') })).toBeVisible();
  await checkA11y(page, 'plans (de)');
  await page.goto('/admin/blueprints?lng=de');
  await expect(page.getByRole('heading', { level: 1, name: tr('de', 'adminBlueprints:list.title') })).toBeVisible();
  await expect(page.getByRole('heading', { name: tr('de', 'adminBlueprints:import.title') })).toBeVisible();
  await checkA11y(page, 'blueprints (de)');
  await page.goto(`${blueprintUrl}?lng=de`);
  await expect(page.getByRole('heading', { name: tr('de', 'adminBlueprints:edit.title') })).toBeVisible();
  await checkA11y(page, 'blueprint (de)');
  await page.goto('/admin/blueprints?lng=en');
  await expect(page.getByRole('heading', { level: 1, name: en('adminBlueprints:list.title') })).toBeVisible();

  // A customer creates a server from the imported blueprint; it runs on the simulator.
  await signOut(page);
  await signUpAndVerify(page, freshEmail('catalog'));
  await createTenant(page, 'Catalog Games');
  await page.getByRole('link', { name: en('dashboard:servers.create') }).click();
  await page.getByLabel(en('servers:create.blueprint')).selectOption({ label: name });
  await page.getByLabel(en('servers:create.name')).fill('echo server');
  await page.getByLabel(en('servers:create.memory')).fill('256'); // journeys share the local node
  await page.getByLabel('Greeting').fill('Hi from the catalog');
  await page.getByRole('button', { name: en('servers:create.submit') }).click();
  await expect(page.getByText(en('servers:progress.running'))).toBeVisible({ timeout: 90_000 });
  await page.getByRole('link', { name: en('servers:progress.open') }).click();
  await expect(page.getByRole('log', { name: en('servers:console.output') })).toContainText('Hi from the catalog, echo ready');

  // Back as the admin: the blueprint is in use, so its delete is refused with the reason.
  await signOut(page);
  await signInAsAdmin(page);
  await page.goto(blueprintUrl);
  await expect(page.getByText(en('adminBlueprints:detail.usedBy_one', { count: 1 }))).toBeVisible();
  await expect(page.getByRole('button', { name: en('adminBlueprints:detail.delete') })).toBeDisabled();
  await expect(page.getByText(en('adminBlueprints:detail.deleteRefused_one'))).toBeVisible();
});
