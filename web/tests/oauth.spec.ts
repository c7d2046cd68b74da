/**
 * Sign-in with a provider, as a person does it, against the local stack's stand-in identity
 * provider (local/identity_provider.py: Google and Microsoft by OpenID Connect, GitHub and
 * Discord by OAuth 2.0): a first sign-in creates the account; a second provider with the same
 * email asks for proof before it is linked; a tampered state, a replayed code, a wrong nonce, an
 * expired ID token and a token signed by another key are each refused with a page that says why.
 */
import type { Page } from '@playwright/test';
import { checkA11y, en, expect, freshEmail, mailLink, PASSWORD, signUpAndVerify, test } from './support';

const NAMES = { google: 'Google', microsoft: 'Microsoft', github: 'GitHub', discord: 'Discord' } as const;
type ProviderId = keyof typeof NAMES;

/** On the stand-in's consent page: sign in as a fresh test user (and pick how the ID token is made). */
async function consent(page: Page, provider: ProviderId, email: string, fault = ''): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: `Sign in to ${NAMES[provider]}` })).toBeVisible();
  if (fault) await page.getByLabel('Token').selectOption(fault);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Name', { exact: true }).fill('Provider Person');
  await page.getByRole('button', { name: 'Continue as this user' }).click();
}

/** From the sign-in page: "Continue with <provider>", then consent on the provider's page. */
async function continueWith(page: Page, provider: ProviderId, email: string, fault = ''): Promise<void> {
  await page.getByRole('link', { name: en('oauth:continueWith', { provider: NAMES[provider] }) }).click();
  await consent(page, provider, email, fault);
}

/**
 * Edit the provider's redirect back to the panel (the callback URL's code or state), as an
 * attacker in the middle would: the consent POST is answered by fetching it without following the
 * redirect and sending the browser an edited Location. (Routes do not see the requests of a
 * redirect chain, so the callback itself cannot be rewritten.)
 */
async function editCallback(page: Page, edit: (url: URL) => void): Promise<void> {
  await page.route(
    (url) => url.pathname.endsWith('/authorize'),
    async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch({ maxRedirects: 0 });
      const location = new URL(response.headers()['location'] ?? '');
      edit(location);
      await route.fulfill({ status: 302, headers: { location: location.toString() } });
    },
  );
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: en('common:nav.signOut'), exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signIn.title') })).toBeVisible();
}

async function expectRefused(page: Page, provider: ProviderId, reason: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: en('oauth:complete.failedTitle', { provider: NAMES[provider] }) })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText(en(`oauth:errors.${reason}`, { provider: NAMES[provider] }));
  await expect(page.getByRole('link', { name: en('oauth:complete.toSignIn') })).toBeVisible();
}

async function linkedProviders(page: Page, open = true): Promise<string[]> {
  if (open) await page.goto('/account');
  const table = page.getByRole('table', { name: en('oauth:identities.caption') });
  await expect(table).toBeVisible();
  return (await table.getByRole('rowheader').allTextContents()).sort();
}

test('a first sign-in with Google (OpenID Connect) creates the account and signs it in', async ({ page }) => {
  const email = freshEmail('oidc');
  await page.goto('/sign-in');
  await expect(page.getByRole('link', { name: en('oauth:continueWith', { provider: 'Google' }) })).toBeVisible();
  await checkA11y(page, 'sign in with provider buttons');
  await continueWith(page, 'google', email);

  // Signed in, at home, with an account whose email is verified and Google linked
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  expect(await linkedProviders(page)).toEqual(['Google']);
  await checkA11y(page, 'account with a linked sign-in');

  // Link GitHub from the account page: the provider's page, then back, linked
  await page.getByRole('button', { name: en('oauth:identities.link', { provider: 'GitHub' }) }).click();
  await consent(page, 'github', freshEmail('linked-github'));
  await expect(page.getByRole('heading', { level: 1, name: en('oauth:complete.linkedTitle', { provider: 'GitHub' }) })).toBeVisible();
  await page.getByRole('link', { name: en('oauth:complete.toAccount') }).click();
  // In the app, not by a reload: a reload while the page's first refresh is in flight would lose its rotated cookie
  expect(await linkedProviders(page, false)).toEqual(['GitHub', 'Google']);
});

test('a first sign-in with GitHub (OAuth 2.0) creates the account; Discord with the same email asks for proof first', async ({ page }) => {
  const email = freshEmail('oauth2');
  await page.goto('/sign-up');
  await checkA11y(page, 'sign up with provider buttons');
  await continueWith(page, 'github', email);
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  await signOut(page);

  // Discord with the same address: not linked silently, the owner is asked to prove the account
  await continueWith(page, 'discord', email);
  await expect(page.getByRole('heading', { level: 1, name: en('oauth:link.title', { provider: 'Discord' }) })).toBeVisible();
  await expect(page.getByText(en('oauth:link.body', { provider: 'Discord', email }))).toBeVisible();
  await checkA11y(page, 'link your account');
  // The account has no password: the proof is its GitHub sign-in (or a mailed link)
  await expect(page.getByLabel(en('oauth:link.password'), { exact: true })).toHaveCount(0);
  await page.getByRole('link', { name: en('oauth:continueWith', { provider: 'GitHub' }) }).click();
  await consent(page, 'github', email);
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  expect(await linkedProviders(page)).toEqual(['Discord', 'GitHub']);
});

test('an account with a password is proven by it before Microsoft is linked', async ({ page }) => {
  const email = freshEmail('prove');
  await signUpAndVerify(page, email);
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  await signOut(page);

  await continueWith(page, 'microsoft', email);
  await expect(page.getByRole('heading', { level: 1, name: en('oauth:link.title', { provider: 'Microsoft' }) })).toBeVisible();
  await page.getByLabel(en('oauth:link.password'), { exact: true }).fill('not the password');
  await page.getByRole('button', { name: en('oauth:link.submit') }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel(en('oauth:link.password'), { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: en('oauth:link.submit') }).click();
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  expect(await linkedProviders(page)).toEqual(['Microsoft']);

  // And Microsoft alone signs in from now on
  await signOut(page);
  await continueWith(page, 'microsoft', email);
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
});

test('a link mailed to the account proves it, and links Discord', async ({ page }) => {
  const email = freshEmail('mailed');
  await signUpAndVerify(page, email);
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  await signOut(page);

  await continueWith(page, 'discord', email);
  await expect(page.getByRole('heading', { level: 1, name: en('oauth:link.title', { provider: 'Discord' }) })).toBeVisible();
  await page.getByRole('button', { name: en('oauth:link.mail') }).click();
  await expect(page.getByText(en('oauth:link.mailSent', { provider: 'Discord', email }))).toBeVisible();

  // The link from the mailbox links Discord and signs in
  await page.goto(await mailLink(email, 'Link Discord', '/oauth/link'));
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  expect(await linkedProviders(page)).toEqual(['Discord']);
});

test('a tampered state is refused with a page that says why', async ({ page }) => {
  await editCallback(page, (url) => url.searchParams.set('state', `${url.searchParams.get('state')}x`));
  await page.goto('/sign-in');
  await continueWith(page, 'google', freshEmail('tamper'));
  await expectRefused(page, 'google', 'state_invalid');
  await checkA11y(page, 'refused sign-in');
});

test('a replayed code is refused, and so is a replayed callback', async ({ page }) => {
  // Given a sign-in that went through, its callback URL recorded
  const callbacks: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/v1/auth/oauth/google/callback?')) callbacks.push(request.url());
  });
  const email = freshEmail('replay');
  await page.goto('/sign-in');
  await continueWith(page, 'google', email);
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  const used = new URL(callbacks[0] ?? '');
  await signOut(page);

  // When a new sign-in comes back with the old code (its own state): the provider refuses the code
  await editCallback(page, (url) => url.searchParams.set('code', used.searchParams.get('code') ?? ''));
  await continueWith(page, 'google', email);
  await expectRefused(page, 'google', 'code_rejected');
  await page.unrouteAll();

  // And opening the old callback again: its state was used up
  await page.goto(used.pathname + used.search);
  await expectRefused(page, 'google', 'state_invalid');
});

for (const [fault, reason] of [
  ['wrong_nonce', 'nonce_mismatch'],
  ['expired', 'id_token_expired'],
  ['other_key', 'signature_invalid'],
] as const) {
  test(`an ID token with ${fault.replace('_', ' ')} is refused and creates nothing`, async ({ page }) => {
    const email = freshEmail(fault.replace('_', '-'));
    await page.goto('/sign-in');
    await continueWith(page, 'google', email, fault);
    await expectRefused(page, 'google', reason);
    // Nothing was created: a password reset for the address sends nothing, and signing in fails
    await page.goto('/sign-in');
    await page.getByLabel(en('auth:fields.email')).fill(email);
    await page.getByLabel(en('auth:fields.password')).fill(PASSWORD);
    await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
    await expect(page.getByRole('alert')).toBeVisible();
  });
}

test('an unverified provider email creates nothing', async ({ page }) => {
  await page.goto('/sign-in');
  await page.getByRole('link', { name: en('oauth:continueWith', { provider: 'Discord' }) }).click();
  await page.getByLabel('The email is verified').uncheck();
  await page.getByLabel('Email', { exact: true }).fill(freshEmail('unverified'));
  await page.getByRole('button', { name: 'Continue as this user' }).click();
  await expectRefused(page, 'discord', 'email_unverified');
});

