/**
 * Browser journeys in real Chromium (Debian's `chromium`, no browser download) against a
 * running local stack: PANEL_URL is its panel (the API's port) and MAIL_DIR its mail spool.
 * tests/e2e/test_web_journeys.py starts the stack and runs this; docs/web.md shows how by hand.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  testMatch: '*.spec.ts',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  outputDir: process.env.PW_OUTPUT_DIR ?? 'test-results',
  use: {
    baseURL: process.env.PANEL_URL,
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
    locale: 'en-US',
    acceptDownloads: true,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
});
