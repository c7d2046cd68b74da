/**
 * Backups, members, two-factor authentication and billing, as a person does them: back up a
 * server and restore it, invite a second person who accepts from the mail, enrol 2FA and
 * sign in with a code, and check out on the local Stripe. axe-core checks every page.
 */
import { createHmac } from 'node:crypto';
import type { Browser, Page } from '@playwright/test';
import { PASSWORD, checkA11y, createTenant, en, expect, freshEmail, mailLink, signIn, signUpAndVerify, test, tr } from './support';

const LINE_SERVER = 'Mamba Line Server';

/** RFC 6238 (SHA-1, 6 digits, 30 s) from the base32 key the enrolment page shows, as an app does. */
function totp(secret: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...secret.replace(/=+$/, '').toUpperCase()].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A fresh account with a tenant (the shared helpers do sign-up, mail and sign-in). */
async function newcomer(page: Page, prefix: string, tenant: string): Promise<string> {
  const email = freshEmail(prefix);
  await signUpAndVerify(page, email);
  await createTenant(page, tenant);
  return email;
}

/** Create a server from the catalog and wait until it runs; ends on its page. */
async function createServer(page: Page, name: string): Promise<void> {
  await page.getByRole('link', { name: en('dashboard:servers.create') }).click();
  await page.getByLabel(en('servers:create.blueprint')).selectOption({ label: LINE_SERVER });
  await page.getByLabel(en('servers:create.name')).fill(name);
  await page.getByLabel('Max players').fill('8');
  // Small, as the other journeys' servers: they all share the local node's capacity.
  await page.getByLabel(en('servers:create.memory')).fill('256');
  await page.getByLabel(en('servers:create.disk')).fill('512');
  await page.getByRole('button', { name: en('servers:create.submit') }).click();
  await expect(page.getByText(en('servers:progress.running'))).toBeVisible({ timeout: 90_000 });
  await page.getByRole('link', { name: en('servers:progress.open') }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

async function tenantPage(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: en('common:nav.label') }).getByRole('link', { name: label }).click();
}

test('back up a server, download and restore it, lock and delete the backup', async ({ page }) => {
  await newcomer(page, 'backups', 'Backup Games');
  await createServer(page, 'backed up');

  await page.getByRole('link', { name: en('backups:tab') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('backups:page.title', { server: 'backed up' }) })).toBeFocused();
  await expect(page.getByText(en('backups:list.empty'))).toBeVisible();
  await expect(page.getByText(/Backup storage: .* of .* used/)).toBeVisible();
  await checkA11y(page, 'backups (empty)');

  // Create, and watch the steps until the backup is done.
  await page.getByLabel(en('backups:create.name')).fill('before the update');
  await page.getByLabel(en('backups:create.ignored')).fill('*.log');
  await page.getByRole('button', { name: en('backups:create.submit') }).click();
  await expect(page.getByRole('heading', { name: en('backups:operation.types.backup_server') })).toBeVisible();
  await expect(page.getByText(`${en('backups:steps.backup_completed')}: ${en('backups:stepStatus.succeeded')}`)).toBeVisible({ timeout: 90_000 });
  const row = page.getByRole('row', { name: /before the update/ });
  await expect(row.getByText(en('backups:status.completed'))).toBeVisible();
  await checkA11y(page, 'backups (one done)');

  // Download: a link signed for 5 minutes that really serves the archive.
  await page.getByRole('button', { name: en('backups:actions.downloadNamed', { name: 'before the update' }) }).click();
  const link = page.getByRole('link', { name: en('backups:download.link', { name: 'before the update' }) });
  await expect(link).toBeVisible();
  await expect(page.getByText(en('backups:download.expires', { minutes: 5 }))).toBeVisible();
  const archive = await page.request.get((await link.getAttribute('href'))!);
  expect(archive.ok()).toBe(true);
  expect((await archive.body()).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip

  // Restore, choosing to delete the server's files first: the dialog says what that means.
  await page.getByRole('button', { name: en('backups:actions.restoreNamed', { name: 'before the update' }) }).click();
  const restore = page.getByRole('alertdialog', { name: en('backups:restore.title', { name: 'before the update' }) });
  await expect(restore.getByText(en('backups:restore.truncateOff'))).toBeVisible();
  await restore.getByLabel(en('backups:restore.truncate')).check();
  await expect(restore.getByText(en('backups:restore.truncateOn'))).toBeVisible();
  await checkA11y(page, 'restore confirmation');
  await restore.getByRole('button', { name: en('backups:restore.confirm') }).click();
  await expect(page.getByRole('heading', { name: en('backups:operation.types.restore_backup') })).toBeVisible();
  await expect(page.getByText(`${en('backups:steps.backup_restored')}: ${en('backups:stepStatus.succeeded')}`)).toBeVisible({ timeout: 90_000 });

  // A locked backup cannot be deleted; unlocked, it can (after a confirmation naming it).
  await page.getByRole('button', { name: en('backups:actions.lockNamed', { name: 'before the update' }) }).click();
  await expect(row.getByText(en('backups:list.locked'))).toBeVisible();
  await expect(page.getByRole('button', { name: en('backups:actions.deleteNamed', { name: 'before the update' }) })).toBeDisabled();
  await page.getByRole('button', { name: en('backups:actions.unlockNamed', { name: 'before the update' }) }).click();
  await page.getByRole('button', { name: en('backups:actions.deleteNamed', { name: 'before the update' }) }).click();
  const remove = page.getByRole('alertdialog', { name: en('backups:delete.title', { name: 'before the update' }) });
  await remove.getByRole('button', { name: en('backups:delete.confirm') }).click();
  await expect(page.getByText(en('backups:list.empty'))).toBeVisible({ timeout: 60_000 });

  // The settings tab: rename the server; its reinstall confirmation names it.
  await page.getByRole('link', { name: en('serverSettings:tab') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('serverSettings:title', { server: 'backed up' }) })).toBeFocused();
  await checkA11y(page, 'server settings');
  await page.getByLabel(en('serverSettings:name.name'), { exact: true }).fill('backed up and renamed');
  await page.getByRole('button', { name: en('serverSettings:name.save') }).click();
  await expect(page.getByText(en('serverSettings:saved'))).toBeVisible();
  await page.getByRole('button', { name: en('serverSettings:reinstall.action') }).click();
  const reinstall = page.getByRole('alertdialog', { name: en('serverSettings:reinstall.confirmTitle', { name: 'backed up and renamed' }) });
  await expect(reinstall).toBeVisible();
  await reinstall.getByRole('button', { name: en('common:actions.cancel') }).click();
});

async function secondBrowser(browser: Browser) {
  const context = await browser.newContext({ baseURL: process.env.PANEL_URL, locale: 'en-US' });
  return { context, page: await context.newPage() };
}

test('invite a second person, who signs up from the mail and accepts', async ({ page, browser }) => {
  await newcomer(page, 'owner', 'Invite Games');
  await tenantPage(page, en('members:nav'));
  await expect(page.getByRole('heading', { level: 1, name: en('members:title') })).toBeFocused();
  await expect(page.getByText(en('members:invitations.empty'))).toBeVisible();
  await checkA11y(page, 'members');

  const friend = freshEmail('friend');
  // The invite form's own role field: the service accounts section has one too.
  const invite = page.getByRole('region', { name: en('members:invite.title') });
  await invite.getByLabel(en('members:invite.email')).fill(friend);
  await invite.getByLabel(en('members:grant.role')).selectOption({ label: en('roles:builtin.operator') });
  await page.getByRole('button', { name: en('members:invite.submit') }).click();
  await expect(page.getByText(en('members:invite.sent', { email: friend }))).toBeVisible();
  await expect(page.getByRole('row', { name: new RegExp(friend) })).toBeVisible();

  // The friend opens the mail's link in their own browser, signs up on the way and accepts.
  const other = await secondBrowser(browser);
  const accept = await mailLink(friend, 'You are invited', '/invitations/accept');
  await other.page.goto(accept);
  await other.page.getByRole('link', { name: en('auth:invite.signUp') }).click();
  await other.page.getByLabel(en('auth:fields.email')).fill(friend);
  await other.page.getByLabel(en('auth:fields.newPassword')).fill(PASSWORD);
  await other.page.getByRole('button', { name: en('auth:signUp.submit') }).click();
  await expect(other.page.getByRole('heading', { name: en('auth:signUp.doneTitle') })).toBeVisible();
  await other.page.goto(await mailLink(friend, 'Verify', '/verify-email'));
  await expect(other.page.getByText(en('auth:verify.done', { email: friend }))).toBeVisible();
  await other.page.goto(accept);
  await other.page.getByRole('link', { name: en('auth:invite.signIn') }).click();
  await signIn(other.page, friend);
  await other.page.getByRole('button', { name: en('auth:invite.accept') }).click();
  await expect(other.page.getByRole('heading', { level: 1, name: 'Invite Games' })).toBeVisible();
  await other.context.close();

  // The owner sees the new member, and changes their role, scope-free, with an end date.
  await page.reload();
  await expect(page.getByText(en('members:invitations.empty'))).toBeVisible();
  const changeButtons = page.getByRole('button', { name: new RegExp(`^${en('members:members.change')}`) });
  await expect(changeButtons).toHaveCount(2);
  // The owner's row says "(you)" once the caller's account has loaded: wait for it, or the
  // filter below may still see two rows.
  await expect(page.getByRole('rowheader', { name: /\(you\)/ })).toBeVisible();
  const friendRow = page.getByRole('row').filter({ has: changeButtons }).filter({ hasNotText: '(you)' });
  await expect(friendRow).toContainText(en('roles:builtin.operator'));
  await friendRow.getByRole('button', { name: new RegExp(`^${en('members:members.change')}`) }).click();
  const edit = page.getByRole('form', { name: new RegExp(`^${en('members:members.changeTitle', { user: '' }).trim()}`) });
  await edit.getByLabel(en('members:grant.role')).selectOption({ label: en('roles:builtin.viewer') });
  await edit.getByLabel(en('members:grant.expires')).fill('2099-01-01T12:00');
  await page.getByRole('button', { name: en('members:members.save') }).click();
  await expect(friendRow).toContainText(en('roles:builtin.viewer'));
  await expect(friendRow).toContainText('2099');

  // A custom role from the grouped permission checkboxes.
  await page.getByRole('link', { name: en('members:rolesLink') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('roles:title') })).toBeFocused();
  await page.getByRole('button', { name: en('roles:create') }).click();
  await page.getByLabel(en('roles:form.name'), { exact: true }).fill('Moderator');
  const servers = page.getByRole('group', { name: en('permissions:families.servers') });
  await servers.getByRole('checkbox', { name: new RegExp(en('permissions:perm.servers.console')) }).check();
  await servers.getByRole('checkbox', { name: new RegExp(en('permissions:perm.servers.read')) }).check();
  await checkA11y(page, 'custom role form');
  await page.getByRole('button', { name: en('roles:form.save') }).click();
  await expect(page.getByRole('row', { name: /Moderator/ })).toContainText(en('roles:permissionCount_other', { count: 2 }));

  // The audit log shows the invitation, filtered by its action.
  await page.goto(page.url().replace(/\/roles$/, '/audit'));
  await expect(page.getByRole('heading', { level: 1, name: en('audit:title') })).toBeVisible();
  await page.getByLabel(en('audit:filters.action')).fill('invite_member');
  await page.getByRole('button', { name: en('audit:filters.apply') }).click();
  await expect(page.getByRole('rowheader', { name: 'invite_member' }).first()).toBeVisible();
  await checkA11y(page, 'audit log');
});

test('enrol two-factor authentication, then sign in with a code', async ({ page }) => {
  const email = await newcomer(page, 'twofa', 'Secure Games');
  await page.getByRole('link', { name: /^Account/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('account:title') })).toBeFocused();
  await checkA11y(page, 'account');
  await page.getByRole('link', { name: en('account:links.twoFactor') }).click();
  await expect(page.getByText(en('twoFactor:off'))).toBeVisible();
  await page.getByRole('button', { name: en('twoFactor:enrol.start') }).click();
  await expect(page.getByRole('img', { name: en('twoFactor:enrol.qr') })).toBeVisible();
  await checkA11y(page, 'two-factor enrolment');
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  await page.getByLabel(en('twoFactor:enrol.code')).fill(totp(secret));
  await page.getByRole('button', { name: en('twoFactor:enrol.confirm') }).click();
  await expect(page.getByRole('heading', { name: en('twoFactor:recovery.title') })).toBeVisible();
  await expect(page.getByRole('list', { name: en('twoFactor:recovery.title') }).getByRole('listitem')).toHaveCount(10);
  await checkA11y(page, 'recovery codes');
  await page.getByRole('button', { name: en('twoFactor:recovery.done') }).click();
  await expect(page.getByText(en('twoFactor:on'))).toBeVisible();

  await page.getByRole('button', { name: en('common:nav.signOut') }).click();
  await signIn(page, email);
  const code = page.getByLabel(en('auth:signIn.code'));
  await expect(code).toBeVisible();
  // A code is accepted once: wait for the next 30-second step after the one that confirmed.
  const confirmedStep = Math.floor(Date.now() / 30_000);
  await expect.poll(() => Math.floor(Date.now() / 30_000), { timeout: 35_000 }).toBeGreaterThan(confirmedStep);
  await code.fill(totp(secret));
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Secure Games' })).toBeVisible();
});

test('change the email and the password on the account page, proving the current password', async ({ page }) => {
  const email = await newcomer(page, 'passwd', 'Careful Games');
  await page.getByRole('link', { name: /^Account/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('account:title') })).toBeFocused();

  // An email change with a wrong current password: the refusal sits next to that input.
  const emailForm = page.locator('form', { has: page.getByRole('heading', { name: en('account:email.title') }) });
  await emailForm.getByLabel(en('account:email.new')).fill(freshEmail('passwd-new'));
  await emailForm.getByLabel(en('account:email.password')).fill('not the current password');
  await emailForm.getByRole('button', { name: en('account:email.save') }).click();
  await expect(emailForm.getByText(en('errors:fieldReasons.current_password.invalid_credentials'))).toBeVisible();
  await checkA11y(page, 'account with a field error');

  // The password change ends this session too: sign-in says why, and the new password works.
  const NEW = 'an even longer web journey password 43';
  const passwordForm = page.locator('form', { has: page.getByRole('heading', { name: en('account:password.title') }) });
  await passwordForm.getByLabel(en('account:password.current')).fill(PASSWORD);
  await passwordForm.getByLabel(en('account:password.new'), { exact: true }).fill(NEW);
  await passwordForm.getByLabel(en('account:password.repeat')).fill(NEW);
  await passwordForm.getByRole('button', { name: en('account:password.save') }).click();
  await expect(page.getByText(en('auth:signIn.notice.passwordChanged'))).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signIn.title') })).toBeVisible();
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(NEW);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('account:title') })).toBeVisible();
});

test('check out the Pro plan on the local Stripe and see the plan change; create an API key', async ({ page }) => {
  await newcomer(page, 'billing', 'Paying Games');
  await tenantPage(page, en('billing:nav'));
  await expect(page.getByRole('heading', { level: 1, name: en('billing:title') })).toBeFocused();
  await expect(page.getByTestId('current-plan')).toHaveText('Free');
  await checkA11y(page, 'billing');

  await page.getByRole('button', { name: en('billing:plans.chooseNamed', { plan: 'Pro' }) }).click();
  await expect(page).toHaveURL(/\/checkout\//);
  await page.getByRole('button', { name: 'Pay' }).click();
  await page.getByRole('link', { name: 'Back to the panel' }).click();
  await expect(page).toHaveURL(/\/billing\?checkout=success/);
  await expect(page.getByText(en('billing:return.active', { plan: 'Pro' }))).toBeVisible();
  await expect(page.getByTestId('current-plan')).toHaveText('Pro');
  await expect(page.getByRole('button', { name: en('billing:portal.open') })).toBeVisible();
  await checkA11y(page, 'billing after checkout');

  // An API key is shown once, with a copy button; the list then shows only its hint.
  await page.goto('/account/api-keys');
  await expect(page.getByRole('heading', { level: 1, name: en('apiKeys:title') })).toBeVisible();
  await page.getByText(en('apiKeys:create.title')).click();
  await page.getByLabel(en('apiKeys:create.name'), { exact: true }).fill('deploy bot');
  await page.getByRole('button', { name: en('apiKeys:create.submit') }).click();
  const key = page.getByTestId('new-api-key');
  await expect(key).toHaveText(/^mhp_/);
  await expect(page.getByRole('button', { name: en('apiKeys:created.copy') })).toBeVisible();
  await checkA11y(page, 'API key created');
  await page.getByRole('button', { name: en('apiKeys:created.done') }).click();
  await expect(key).toHaveCount(0);
  await expect(page.getByRole('row', { name: /deploy bot/ })).toContainText(en('apiKeys:list.never'));
});

test('every page of backups, settings, members, roles, audit, billing and account in German', async ({ page }) => {
  await newcomer(page, 'deutsch', 'Deutsche Spiele');
  await createServer(page, 'auf Deutsch');
  const server = new URL(page.url()).pathname; // /t/<tenant>/servers/<id>
  const tenant = server.replace(/\/servers\/.*$/, '');
  const de = (key: string, vars?: Record<string, string | number>) => tr('de', key, vars);
  const pages: [string, string][] = [
    [`${server}/backups?lng=de`, de('backups:page.title', { server: 'auf Deutsch' })],
    [`${server}/settings`, de('serverSettings:title', { server: 'auf Deutsch' })],
    [`${tenant}/members`, de('members:title')],
    [`${tenant}/roles`, de('roles:title')],
    [`${tenant}/audit`, de('audit:title')],
    [`${tenant}/billing`, de('billing:title')],
    ['/account', de('account:title')],
    ['/account/two-factor', de('twoFactor:title')],
    ['/account/api-keys', de('apiKeys:title')],
  ];
  for (const [path, title] of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
    await checkA11y(page, `${path} (de)`);
  }
  // The language can be changed back on the account page.
  await page.goto('/account');
  await page.getByLabel(de('account:language.label')).selectOption('en');
  await expect(page.getByRole('heading', { level: 1, name: en('account:title') })).toBeVisible();
});
