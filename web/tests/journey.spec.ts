/**
 * A newcomer's first day, as a person does it: sign up, verify the address from the mail,
 * sign in, create a tenant and a server, watch it install and start, type into its console,
 * edit and save a file, upload one and download it again. axe-core checks every page.
 */
import { readFileSync } from 'node:fs';
import { checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test } from './support';

const LINE_SERVER = 'Mamba Line Server';

test('sign up to a running server: console, editor, upload and download', async ({ page }, info) => {
  const email = freshEmail('journey');
  await signUpAndVerify(page, email);
  await createTenant(page, 'Journey Games');
  await expect(page.getByText(en('dashboard:servers.empty'))).toBeVisible();
  await checkA11y(page, 'dashboard (empty)');

  // Create a server from the catalog; the browser checks the variables' rules first.
  await page.getByRole('link', { name: en('dashboard:servers.create') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('servers:CreateServer.title') })).toBeFocused();
  await page.getByLabel(en('servers:create.blueprint')).selectOption({ label: LINE_SERVER });
  await page.getByLabel(en('servers:create.name')).fill('journey server');
  await page.getByLabel(en('servers:create.memory')).fill('256'); // journeys share the local node
  await page.getByLabel('Max players').fill('500');
  await page.getByRole('button', { name: en('servers:create.submit') }).click();
  await expect(page.getByText(en('servers:rules.between_number', { a: 1, b: 100 }))).toBeVisible();
  await expect(page.getByLabel('Max players')).toBeFocused();
  await checkA11y(page, 'create server with an error');
  await page.getByLabel('Max players').fill('12');
  await page.getByRole('button', { name: en('servers:create.submit') }).click();

  // The progress view follows the steps until the server runs.
  await expect(page.getByRole('heading', { level: 1, name: en('servers:Progress.title') })).toBeVisible();
  await expect(page.getByRole('list', { name: en('servers:progress.steps') })).toContainText(en('servers:steps.install'));
  await checkA11y(page, 'progress');
  await expect(page.getByText(en('servers:progress.running'))).toBeVisible({ timeout: 90_000 });
  await checkA11y(page, 'progress (done)');
  await page.getByRole('link', { name: en('servers:progress.open') }).click();

  // The console shows the server's output and echoes a typed command.
  await expect(page.getByRole('heading', { level: 1, name: 'journey server' })).toBeFocused();
  const console = page.getByRole('log', { name: en('servers:console.output') });
  await expect(console).toContainText('Line server ready');
  await expect(page.getByRole('button', { name: en('servers:power.start'), exact: true })).toBeDisabled();
  await expect(page.getByRole('button', { name: en('servers:power.stop') })).toBeEnabled();
  await page.getByLabel(en('servers:console.command')).fill('say hello from the browser');
  await page.getByRole('button', { name: en('servers:console.send') }).click();
  await expect(console).toContainText('hello from the browser');
  await expect(page.getByRole('definition').filter({ hasText: /MiB|KiB|MB|kB|byte/ }).first()).toBeVisible();
  await checkA11y(page, 'server page with console');

  // Files: upload a file straight to the node, with a progress bar that finishes.
  await page.getByRole('link', { name: en('servers:tabs.files') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('files:heading', { name: 'journey server' }) })).toBeFocused();
  await expect(page.getByRole('button', { name: 'line_server.py', exact: true })).toBeVisible();
  await checkA11y(page, 'files');
  await page.getByLabel(en('files:upload')).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('first line\n') });
  await expect(page.getByRole('list', { name: en('files:transfer.label') })).toContainText(en('files:transfer.done'));
  await expect(page.getByRole('button', { name: 'notes.txt', exact: true })).toBeVisible();

  // Edit it in the editor and save with Ctrl-S.
  await page.getByRole('button', { name: 'notes.txt', exact: true }).click();
  const editor = page.getByRole('textbox', { name: en('files:editor.label', { path: '/notes.txt' }) });
  await expect(editor).toContainText('first line');
  await checkA11y(page, 'editor');
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('second line from the editor');
  await page.keyboard.press('Control+s');
  await expect(page.getByRole('status').filter({ hasText: en('files:editor.saved') })).toBeVisible();
  await page.getByRole('button', { name: en('common:actions.close') }).click();

  // Download it again through the node's signed URL: the saved text comes back.
  await page.getByRole('button', { name: en('files:actionsFor', { name: 'notes.txt' }) }).click();
  const downloading = page.waitForEvent('download');
  await page.getByRole('menuitem', { name: en('files:download') }).click();
  const download = await downloading;
  const saved = info.outputPath('notes.txt');
  await download.saveAs(saved);
  expect(readFileSync(saved, 'utf8')).toBe('first line\nsecond line from the editor');

  // Create a folder, then delete it with confirmation.
  await page.getByLabel(en('files:newFolder')).fill('maps');
  await page.getByRole('button', { name: en('files:create') }).click();
  await expect(page.getByRole('link', { name: /maps/ })).toBeVisible();
  await page.getByRole('button', { name: en('files:actionsFor', { name: 'maps' }) }).click();
  await page.getByRole('menuitem', { name: en('files:delete') }).click();
  const dialog = page.getByRole('alertdialog', { name: en('files:deleteTitle', { name: 'maps' }) });
  await expect(dialog).toBeVisible();
  await checkA11y(page, 'delete confirmation');
  await dialog.getByRole('button', { name: en('files:delete') }).click();
  await expect(page.getByRole('link', { name: /maps/ })).toHaveCount(0);
});
