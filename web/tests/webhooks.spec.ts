/**
 * Outgoing webhooks, as a tenant owner sets one up: add a webhook pointing at a receiver on this
 * machine (local mode allows http and loopback), keep the secret shown once, send a test, and see
 * it delivered in the delivery log; the receiver checks the signature and the event id.
 * axe-core checks both pages.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkA11y, createTenant, en, expect, freshEmail, signUpAndVerify, test, tr } from './support';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on 127.0.0.1 that answers 200 and keeps what it got. */
async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"received":true}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hooks/mamba`, received };
}

/** Mamba-Signature as a receiver checks it: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>. */
function signatureValid(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((item) => item.split('=', 2) as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  const given = parts.v1 ?? '';
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

test('add a webhook, keep its secret, send a test and see it delivered and signed', async ({ page }) => {
  const hook = await receiver();
  try {
    await signUpAndVerify(page, freshEmail('webhooks'));
    await createTenant(page, 'Hooked Games');

    // The tenant's webhooks page, from the navigation
    await page.getByRole('navigation', { name: en('common:nav.label') }).getByRole('link', { name: en('webhooks:nav') }).click();
    await expect(page.getByRole('heading', { level: 1, name: en('webhooks:title') })).toBeFocused();
    await expect(page.getByText(en('webhooks:empty'))).toBeVisible();
    await checkA11y(page, 'webhooks (empty)');

    // Add one: the failure events are chosen already; the secret is shown once
    const form = page.getByRole('form', { name: en('webhooks:form.createTitle') });
    await form.getByLabel(en('webhooks:form.url')).fill(hook.url);
    await form.getByLabel(en('webhooks:form.description')).fill('ops bot');
    await expect(form.getByRole('checkbox', { name: new RegExp(en('webhooks:events.backup_failed')) })).toBeChecked();
    await form.getByRole('button', { name: en('webhooks:form.create') }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await checkA11y(page, 'webhook secret shown');
    await page.getByRole('button', { name: en('webhooks:secret.done') }).click();
    await expect(page.getByTestId('webhook-secret')).toHaveCount(0);
    await expect(page.getByRole('link', { name: hook.url })).toBeVisible();

    // Send a test from its page and watch the delivery log
    await page.getByRole('link', { name: hook.url }).click();
    await expect(page.getByRole('heading', { level: 1, name: hook.url })).toBeFocused();
    await expect(page.getByText(en('webhooks:log.empty'))).toBeVisible();
    await page.getByRole('button', { name: en('webhooks:test.send') }).click();
    await expect(page.getByText(en('webhooks:test.queuedHere'))).toBeVisible();
    const log = page.getByRole('table', { name: en('webhooks:log.title') });
    await expect(log.getByText(en('webhooks:log.outcomes.succeeded'))).toBeVisible({ timeout: 60_000 });
    await expect(log.getByRole('cell', { name: '200', exact: true })).toBeVisible();
    await expect(log.getByText(en('webhooks:events.webhook_test'))).toBeVisible();
    await checkA11y(page, 'webhook delivery log');

    // The receiver got one POST, signed with the secret, naming the event it carries
    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    const event = JSON.parse(got!.body) as { id: string; type: string };
    expect(event.type).toBe('webhook.test');
    expect(got!.headers['mamba-event-id']).toBe(event.id);
    expect(signatureValid(secret, String(got!.headers['mamba-signature']), got!.body)).toBe(true);
    await expect(log.getByText(event.id)).toBeVisible();

    // Disable it: the page says so
    await page.getByRole('button', { name: en('webhooks:settings.disable') }).click();
    await expect(page.getByText(en('webhooks:status.disabled'), { exact: true })).toBeVisible();

    // Both pages in German
    const detail = new URL(page.url()).pathname;
    await page.goto(`${detail}?lng=de`);
    await expect(page.getByRole('heading', { name: tr('de', 'webhooks:log.title') })).toBeVisible();
    await expect(page.getByText(tr('de', 'webhooks:log.outcomes.succeeded'))).toBeVisible();
    await checkA11y(page, 'webhook page (de)');
    await page.getByRole('link', { name: tr('de', 'webhooks:back') }).click();
    await expect(page.getByRole('heading', { name: tr('de', 'webhooks:form.createTitle') })).toBeVisible();
    await checkA11y(page, 'webhooks (de)');
  } finally {
    hook.server.close();
  }
});
