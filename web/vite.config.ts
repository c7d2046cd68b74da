/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The API and the panel share one origin (docs/web.md). In development `vite` proxies the
// API paths to a running `make run` (PANEL_API, default http://127.0.0.1:8000).
const api = process.env.PANEL_API ?? 'http://127.0.0.1:8000';
const apiPaths = ['/v1', '/api', '/webhooks', '/health', '/openapi.json', '/docs'];

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    target: 'es2022',
    sourcemap: false,
    // No inline scripts or styles: the CSP forbids them (docs/web.md).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: Object.fromEntries(apiPaths.map((p) => [p, { target: api, changeOrigin: false }])) },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
  },
});
