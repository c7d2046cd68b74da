/**
 * Keyboard only: from the dashboard to a running server's console without the mouse. Every
 * step is Tab, Shift+Tab, Enter, Escape or typing, as a keyboard user moves; the terminal is
 * entered with Tab and left with Escape then Tab, as the hint beside it says.
 */
import type { Locator, Page } from '@playwright/test';
import { checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test } from './support';

/** Press Tab until `target` has focus (a keyboard user's way to reach it). */
async function tabTo(page: Page, target: Locator, most = 60): Promise<void> {
  for (let i = 0; i < most; i += 1) {
    if (await target.evaluate((el) => el === document.activeElement || el.contains(document.activeElement))) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

test('create a server and use its console with the keyboard alone', async ({ page }) => {
  await signUpAndVerify(page, freshEmail('keyboard'));
  await createTenant(page, 'Keyboard Games');

  // The skip link is the first stop and jumps to the main content.
  await page.goto(page.url());
  await expect(page.getByRole('heading', { level: 1, name: 'Keyboard Games' })).toBeVisible();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: en('common:nav.skip') });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();

  await tabTo(page, page.getByRole('link', { name: en('dashboard:servers.create') }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: en('servers:CreateServer.title') })).toBeFocused();

  await tabTo(page, page.getByLabel(en('servers:create.name')));
  await page.keyboard.type('keyboard server');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel(en('servers:create.blueprint'))).toBeFocused();
  await page.keyboard.type('Mamba'); // a select picks the option its typed letters start
  await expect(page.getByLabel(en('servers:create.blueprint'))).toHaveValue('bp_line_server');
  // A small server: journeys share the local node's capacity.
  await tabTo(page, page.getByLabel(en('servers:create.memory')));
  await page.keyboard.press('Control+a');
  await page.keyboard.type('256');
  await tabTo(page, page.getByRole('button', { name: en('servers:create.submit') }));
  await page.keyboard.press('Enter');

  await expect(page.getByText(en('servers:progress.running'))).toBeVisible({ timeout: 90_000 });
  await tabTo(page, page.getByRole('link', { name: en('servers:progress.open') }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'keyboard server' })).toBeFocused();

  // Into the terminal with Tab, out again with Escape then Tab, onto the command line.
  const output = page.getByRole('log', { name: en('servers:console.output') });
  await expect(output).toContainText('Line server ready');
  await tabTo(page, output);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  const command = page.getByLabel(en('servers:console.command'));
  await expect(command).toBeFocused();
  await page.keyboard.type('say typed without a mouse');
  await page.keyboard.press('Enter');
  await expect(output).toContainText('typed without a mouse');
  await checkA11y(page, 'console (keyboard)');
});
