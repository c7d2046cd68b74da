/**
 * The German locale, chosen by the browser's language: every page a newcomer passes renders
 * in German with no missing key (the shared fixture fails on any) and passes axe.
 */
import { checkA11y, expect, freshEmail, mailLink, PASSWORD, test, tr } from './support';

const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);

test.use({ locale: 'de-DE' });

test('a German browser gets every page in German', async ({ page }) => {
  const email = freshEmail('deutsch');
  await page.goto('/sign-up');
  await expect(page.getByRole('heading', { level: 1, name: de('auth:signUp.title') })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  await checkA11y(page, 'Registrieren');
  await page.getByLabel(de('auth:fields.email')).fill(email);
  await page.getByLabel(de('auth:fields.newPassword')).fill(PASSWORD);
  await page.getByRole('button', { name: de('auth:signUp.submit') }).click();
  await expect(page.getByText(de('auth:signUp.done', { email }))).toBeVisible();

  await page.goto(await mailLink(email, 'Verify', '/verify-email'));
  await expect(page.getByText(de('auth:verify.done', { email }))).toBeVisible();
  await page.getByRole('link', { name: de('auth:verify.toSignIn') }).click();

  // A wrong password: the API's UNAUTHORIZED as a German sentence.
  await page.getByLabel(de('auth:fields.email')).fill(email);
  await page.getByLabel(de('auth:fields.password')).fill('not the password at all');
  await page.getByRole('button', { name: de('auth:signIn.submit') }).click();
  await expect(page.getByRole('alert')).toHaveText(de('errors:reasons.invalid_credentials'));
  await checkA11y(page, 'Anmelden mit Fehler');
  await page.getByLabel(de('auth:fields.password')).fill(PASSWORD);
  await page.getByRole('button', { name: de('auth:signIn.submit') }).click();

  await expect(page.getByText(de('tenants:home.empty'))).toBeVisible();
  await page.getByRole('link', { name: de('tenants:home.createFirst') }).click();
  await page.getByLabel(de('tenants:create.name')).fill('Deutsche Spiele');
  await page.getByRole('button', { name: de('tenants:create.submit') }).click();
  await expect(page.getByText(de('dashboard:servers.empty'))).toBeVisible();
  await expect(page.getByRole('heading', { name: de('dashboard:plan.title') })).toBeVisible();
  await checkA11y(page, 'Übersicht');

  await page.getByRole('link', { name: de('dashboard:servers.create') }).click();
  await expect(page.getByRole('heading', { level: 1, name: de('servers:CreateServer.title') })).toBeFocused();
  await expect(page.getByLabel(de('servers:create.memory'))).toBeVisible();
  await checkA11y(page, 'Server anlegen');

  await page.goto('/forgot-password');
  await expect(page.getByRole('heading', { level: 1, name: de('auth:forgot.title') })).toBeVisible();
  await page.goto('/reset-password');
  await expect(page.getByText(de('auth:reset.noToken'))).toBeVisible();
  await page.goto('/invitations/accept');
  await expect(page.getByText(de('auth:invite.noToken'))).toBeVisible();
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: de('common:notFound.title') })).toBeVisible();
  await checkA11y(page, 'Seite nicht gefunden');
});
