/**
 * Notifications (issue 14), as a person meets them: something happens (here a new API key, a
 * security event), the bell in the header counts it, the list shows it with its link, marking it
 * read empties the bell, the mail arrives, and the preferences page turns its mail off for good.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

/** Whether a mail to `to` whose header contains `subject` is in the stack's mail spool. */
function mailed(to: string, subject: string): boolean {
  const dir = process.env.MAIL_DIR ?? '';
  return readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .some((name) => {
      const text = readFileSync(join(dir, name), 'utf8');
      const header = text.slice(0, text.search(/\r?\n\r?\n/));
      return header.includes(to) && header.includes(subject);
    });
}

test('a new API key rings the bell, shows in the list and by mail; read empties the bell; mail can be turned off', async ({ page }) => {
  const email = freshEmail('bell');
  await signUpAndVerify(page, email);
  await createTenant(page, 'Bell Ringers');
  await expect(page.getByRole('link', { name: en('notifications:bell.label_zero') })).toBeVisible();

  // Something happens: an API key is created (the owner of the tenant hears of it)
  await page.goto('/account/api-keys');
  await page.getByText(en('apiKeys:create.title')).click();
  await page.getByLabel(en('apiKeys:create.name'), { exact: true }).fill('bell key');
  await page.getByRole('button', { name: en('apiKeys:create.submit') }).click();
  await expect(page.getByTestId('new-api-key')).toHaveText(/^mhp_/);

  // The bell counts it (the queue delivers it; the bell asks every 30 s)
  const ringing = page.getByRole('link', { name: en('notifications:bell.label_one', { count: 1 }) });
  await expect(ringing).toBeVisible({ timeout: 60_000 });
  await ringing.click();
  await expect(page.getByRole('heading', { level: 1, name: en('notifications:title') })).toBeVisible();
  const title = en('notifications:types.api_key.created.title', { key_name: 'bell key', owner_email: email });
  const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title }) });
  await expect(item).toContainText(en('notifications:severity.warning'));
  await expect(item.getByRole('link', { name: en('notifications:list.open', { what: title }) })).toBeVisible();
  await checkA11y(page, 'notifications');

  // A security event is mailed too, by default
  await expect.poll(() => mailed(email, 'A new API key: bell key'), { timeout: 60_000 }).toBe(true);

  // Marking it read empties the bell and the unread filter
  await item.getByRole('button', { name: en('notifications:list.markReadNamed', { what: title }) }).click();
  await expect(page.getByRole('link', { name: en('notifications:bell.label_zero') })).toBeVisible();
  await page.getByLabel(en('notifications:list.unreadOnly')).check();
  await expect(page.getByText(en('notifications:list.noneUnread'))).toBeVisible();

  // The preferences: API keys no longer by mail, and the choice survives a reload
  await page.getByRole('link', { name: en('notifications:list.preferences') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('notifications:preferences.title') })).toBeVisible();
  await checkA11y(page, 'notification preferences');
  const name = en('notifications:types.api_key.created.name');
  const byMail = page.getByRole('checkbox', { name: en('notifications:preferences.emailFor', { what: name }) });
  await expect(byMail).toBeChecked();
  await byMail.uncheck();
  await page.getByRole('button', { name: en('notifications:preferences.save') }).click();
  await expect(page.getByText(en('notifications:preferences.saved'))).toBeVisible();
  await page.reload();
  await expect(page.getByRole('checkbox', { name: en('notifications:preferences.emailFor', { what: name }) })).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: en('notifications:preferences.inAppFor', { what: name }) })).toBeChecked();

  // The same pages in German
  await page.goto('/notifications?lng=de');
  await expect(page.getByRole('heading', { level: 1, name: tr('de', 'notifications:title') })).toBeVisible();
  await checkA11y(page, 'notifications in German');
  await page.goto('/account/notifications?lng=de');
  await expect(page.getByRole('heading', { level: 1, name: tr('de', 'notifications:preferences.title') })).toBeVisible();
  await page.goto('/account?lng=en');
});
