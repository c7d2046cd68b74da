/**
 * Passkeys in real Chromium with a virtual authenticator (the DevTools protocol's `WebAuthn`
 * domain): add a passkey from the account page, sign out, sign in with the passkey alone, sign
 * out, then sign in with the password and give the passkey as the second factor.
 *
 * Browsers refuse passkeys on an IP address, so this journey needs the panel under a host name:
 * tests/e2e/test_passkeys_journey.py starts a stack with LOCAL_PANEL_HOST=localhost and runs it.
 * Against a panel on 127.0.0.1 (the shared journeys' stack) it is skipped, saying why.
 */
import type { CDPSession, Page } from '@playwright/test';
import { checkA11y, en, expect, freshEmail, PASSWORD, signUpAndVerify, test } from './support';

const onHostName = !/^https?:\/\/\d+\.\d+\.\d+\.\d+(:\d+)?\/?$/.test(process.env.PANEL_URL ?? '');

async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  // A platform authenticator with discoverable credentials whose user verification (the PIN or
  // fingerprint a person would give) always succeeds.
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: en('common:nav.signOut'), exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signIn.title') })).toBeVisible();
}

test('add a passkey, sign in with it alone, then use it as the second factor', async ({ page }) => {
  test.skip(!onHostName, 'passkeys need the panel on a host name (tests/e2e/test_passkeys_journey.py runs this)');
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  const email = freshEmail('passkeys');
  await signUpAndVerify(page, email, 'Passkey Person');
  await expect(page.getByRole('button', { name: en('common:nav.signOut'), exact: true })).toBeVisible();

  // Add a passkey from the account page.
  await page.goto('/account');
  await expect(page.getByRole('heading', { level: 2, name: en('passkeys:title') })).toBeVisible();
  await expect(page.getByText(en('passkeys:empty'))).toBeVisible();
  await page.getByLabel(en('passkeys:newName')).fill('Virtual key');
  await page.getByRole('button', { name: en('passkeys:add') }).click();
  await expect(page.getByText(en('passkeys:added_notice', { name: 'Virtual key' }))).toBeVisible();
  const row = page.getByRole('row', { name: /Virtual key/ });
  await expect(row).toContainText(en('passkeys:never'));
  await checkA11y(page, 'account with a passkey');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0]?.isResidentCredential).toBe(true);

  // Sign out, then sign in with the passkey alone: no email, no password.
  await signOut(page);
  await page.getByRole('button', { name: en('passkeys:signIn.button') }).click();
  await expect(page.getByRole('button', { name: en('common:nav.signOut'), exact: true })).toBeVisible();
  await page.goto('/account');
  await expect(page.getByRole('row', { name: /Virtual key/ })).not.toContainText(en('passkeys:never'));

  // Sign out, then sign in with the password: the passkey is asked for as the second factor.
  await signOut(page);
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(PASSWORD);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByText(en('passkeys:secondFactor.hint'))).toBeVisible();
  // The account has no authenticator app, so no code is asked for.
  await expect(page.getByLabel(en('auth:signIn.code'))).toHaveCount(0);
  await checkA11y(page, 'sign in, second factor by passkey');
  await page.getByRole('button', { name: en('passkeys:secondFactor.button') }).click();
  await expect(page.getByRole('button', { name: en('common:nav.signOut'), exact: true })).toBeVisible();

  // The authenticator's counter moved with each use, and the panel kept up with it.
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(after.credentials[0]?.signCount).toBeGreaterThanOrEqual(2);
});
