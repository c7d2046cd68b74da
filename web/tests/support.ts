/**
 * What every journey shares: a `page` that fails the test on a missing translation or a CSP
 * violation, axe-core on demand, the English strings by key, and the local mailbox.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { expect, test as base, type Page } from '@playwright/test';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const LOCALES = resolve(import.meta.dirname, '../src/locales');

/** A string of the app by key (`en('auth:signIn.submit')`), so copy edits do not break tests. */
export function tr(lng: 'en' | 'de', key: string, vars: Record<string, string | number> = {}): string {
  const [ns, path] = key.split(':') as [string, string];
  const bundle = JSON.parse(readFileSync(join(LOCALES, lng, `${ns}.json`), 'utf8')) as Record<string, unknown>;
  const value = path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], bundle);
  if (typeof value !== 'string') throw new Error(`no string ${lng}:${key}`);
  return value.replace(/{{(\w+)}}/g, (_, name: string) => String(vars[name] ?? ''));
}
export const en = (key: string, vars?: Record<string, string | number>) => tr('en', key, vars);

export const PASSWORD = 'a long web journey password 42';

export function freshEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Runs axe-core in the page: 0 serious or critical violations, or the test fails naming them. */
export async function checkA11y(page: Page, where: string): Promise<void> {
  // evaluate() runs through the DevTools protocol, so the page's CSP (no inline script) allows it.
  await page.evaluate(AXE);
  // Colours are judged at rest: a button's 150 ms background transition (say, disabled → danger)
  // caught half-way is no state a person reads, so wait for running transitions to end first.
  await page.waitForFunction(() => document.getAnimations().every((a) => !('transitionProperty' in a) || a.playState !== 'running'));
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} @ ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  expect(violations, `axe on ${where}`).toEqual([]);
}

function decodeMail(raw: string): string {
  // Each MIME part is decoded by its own Content-Transfer-Encoding. A 7bit part stays as it is:
  // decoding "=XX" everywhere would turn a link's "token=B4…" into "token´…".
  const split = raw.search(/\r?\n\r?\n/);
  if (split < 0) return raw;
  const head = raw.slice(0, split);
  const body = raw.slice(split);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1];
  if (boundary) return head + body.split(`--${boundary}`).map(decodeMail).join('\n');
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
  if (encoding === 'quoted-printable') {
    return head + body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  if (encoding === 'base64') return `${head}\n\n${Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')}`;
  return raw;
}

/** The first link in the newest mail to `to` whose subject contains `subject`, waited for. */
export async function mailLink(to: string, subject: string, path: string): Promise<string> {
  const dir = process.env.MAIL_DIR;
  if (!dir) throw new Error('MAIL_DIR is not set (the local stack’s stack.json mail_dir)');
  let found = '';
  await expect
    .poll(
      () => {
        for (const name of readdirSync(dir).filter((n) => n.endsWith('.eml')).sort().reverse()) {
          const text = decodeMail(readFileSync(join(dir, name), 'utf8'));
          const header = text.slice(0, text.search(/\r?\n\r?\n/));
          if (!header.includes(to) || !header.includes(subject)) continue;
          const link = new RegExp(`https?://\\S+?${path.replace(/[/.?]/g, '\\$&')}\\?token=[^\\s"'<>]+`).exec(text);
          if (link) {
            found = link[0];
            return true;
          }
        }
        return false;
      },
      { message: `a mail to ${to} about "${subject}" with a ${path} link`, timeout: 60_000 },
    )
    .toBe(true);
  // Open the link on the panel the test runs against (the mail names MAMBA_PUBLIC_URL, the same origin).
  const url = new URL(found);
  return url.pathname + url.search;
}

export const test = base.extend<{ problems: string[] }>({
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('console', (message) => {
        const text = message.text();
        if (message.type() === 'error' && /Content Security Policy|Refused to/.test(text)) problems.push(`CSP: ${text}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await use(problems);
      const missing = await page.evaluate(() => window.__i18nMissing ?? []).catch(() => [] as string[]);
      expect(missing, 'missing translations').toEqual([]);
      expect(problems, 'CSP violations and page errors').toEqual([]);
    },
    { auto: true },
  ],
});

declare global {
  interface Window {
    __i18nMissing?: string[];
  }
}

export { expect };

/** Sign up through the pages, open the verification link from the mailbox, sign in. */
export async function signUpAndVerify(page: Page, email: string, name = 'Web Journey'): Promise<void> {
  await page.goto('/sign-up');
  // A fresh load leaves focus at the top (the skip link comes first); in-app navigation focuses the h1.
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signUp.title') })).toBeVisible();
  await checkA11y(page, 'sign up');
  await page.getByLabel(en('auth:fields.name')).fill(name);
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.newPassword')).fill(PASSWORD);
  await page.getByRole('button', { name: en('auth:signUp.submit') }).click();
  await expect(page.getByRole('heading', { name: en('auth:signUp.doneTitle') })).toBeVisible();
  await checkA11y(page, 'sign up done');

  await page.goto(await mailLink(email, 'Verify', '/verify-email'));
  await expect(page.getByText(en('auth:verify.done', { email }))).toBeVisible();
  await checkA11y(page, 'verify email');
  await page.getByRole('link', { name: en('auth:verify.toSignIn') }).click();
  await signIn(page, email);
}

/**
 * The local stack's seeded platform admin: ADMIN_EMAIL/ADMIN_PASSWORD, else ADMIN_FILE, else the
 * `admin.txt` the launcher keeps beside its mail spool (`<local dir>/admin.txt`, `key=value` lines).
 */
export function adminLogin(): { email: string; password: string } {
  if (process.env.ADMIN_EMAIL && process.env.ADMIN_PASSWORD) return { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD };
  const mailDir = process.env.MAIL_DIR;
  if (!mailDir && !process.env.ADMIN_FILE) throw new Error('set ADMIN_EMAIL and ADMIN_PASSWORD, or MAIL_DIR (the stack keeps admin.txt beside it)');
  const values = Object.fromEntries(
    readFileSync(process.env.ADMIN_FILE ?? join(mailDir ?? '.', '..', 'admin.txt'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()]),
  );
  return { email: values.email ?? '', password: values.password ?? '' };
}

export async function signIn(page: Page, email: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: en('auth:signIn.title') })).toBeVisible();
  await checkA11y(page, 'sign in');
  await page.getByLabel(en('auth:fields.email')).fill(email);
  await page.getByLabel(en('auth:fields.password')).fill(PASSWORD);
  await page.getByRole('button', { name: en('auth:signIn.submit') }).click();
}

export async function createTenant(page: Page, name: string): Promise<void> {
  await expect(page.getByText(en('tenants:home.empty'))).toBeVisible();
  await checkA11y(page, 'home without tenants');
  await page.getByRole('link', { name: en('tenants:home.createFirst') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('tenants:create.title') })).toBeFocused();
  await checkA11y(page, 'create tenant');
  await page.getByLabel(en('tenants:create.name')).fill(name);
  await page.getByRole('button', { name: en('tenants:create.submit') }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}
