/**
 * Tenant lifecycle, the account owner's side: the account page's "Delete account" section in
 * English and German (axe on both), then a newcomer deletes their account with the typed
 * confirmation, lands on sign-in with the reason, and can no longer sign in. The empty tenant
 * they alone owned goes with it. (The retention job itself runs in tests/e2e/test_tenant_retention.py.)
 */
import { PASSWORD, checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);

test('delete your account from the account page, with the email typed out', async ({ page }) => {
  const email = freshEmail('leaving');
  await signUpAndVerify(page, email, 'Leaving Soon');
  await createTenant(page, 'Short Lived');

  // The section, in English and in German
  await page.goto('/account');
  const section = page.getByRole('form', { name: en('account:deleteAccount.title') });
  await expect(section).toBeVisible();
  await checkA11y(page, 'account (delete section)');
  await page.getByLabel(en('account:language.label')).selectOption('de');
  await expect(page.getByRole('form', { name: de('account:deleteAccount.title') })).toBeVisible();
  await checkA11y(page, 'Konto (Konto löschen)');
  await page.getByLabel(de('account:language.label')).selectOption('en');
  await expect(section).toBeVisible();

  // The button waits for the password and the exact address
  const button = section.getByRole('button', { name: en('account:deleteAccount.submit') });
  await section.getByLabel(en('account:deleteAccount.password')).fill(PASSWORD);
  await section.getByLabel(en('account:deleteAccount.confirm')).fill('someone.else@example.com');
  await expect(section.getByText(en('account:deleteAccount.confirmMismatch'))).toBeVisible();
  await expect(button).toBeDisabled();
  await section.getByLabel(en('account:deleteAccount.confirm')).fill(email);
  await expect(button).toBeEnabled();
  await button.click();

  // Signed out, told why; the account is gone
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signIn.title') })).toBeVisible();
  await expect(page.getByText(en('auth:signIn.notice.accountDeleted'))).toBeVisible();
  await checkA11y(page, 'sign in after deleting the account');
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(PASSWORD);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByRole('alert')).toHaveText(en('errors:reasons.invalid_credentials'));
});
