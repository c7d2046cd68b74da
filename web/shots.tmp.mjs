import { chromium } from 'playwright-core';
const base = 'http://127.0.0.1:57039';
const op = process.argv[2], srv = process.argv[3];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(base + '/sign-in');
await page.getByLabel('Email').fill('admin@mamba.local');
await page.getByLabel('Password').fill('vFwRLkmLlYbaHiq84dx3Tu8T');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL((u) => !u.pathname.includes('sign-in'));
for (const lng of ['en', 'de']) {
  for (const [name, path] of [['servers', '/admin/servers'], ['server', `/admin/servers/${srv}`], ['operations', '/admin/operations'], ['operation', `/admin/operations/${op}`], ['deadletters', '/admin/dead-letters'], ['audit', '/admin/audit']]) {
    await page.goto(`${base}${path}?lng=${lng}`);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `/tmp/adm-ops-stack/${name}-${lng}.png`, fullPage: true });
  }
}
await browser.close();
