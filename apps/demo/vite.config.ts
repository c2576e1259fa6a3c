import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { source } from '../../vitest.shared';

/**
 * The demo builds to `dist/`: the app, and its service worker (`src/sw.ts`, Workbox through
 * vite-plugin-pwa) that precaches every file of it, so the app opens offline after the
 * first visit, and syncs the replica when the browser fires Background Sync. Workspace
 * packages are bundled from their TypeScript sources.
 */
export default defineConfig({
  ...source,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { target: 'es2022', sourcemap: true },
  preview: { host: 'localhost', port: 4173, strictPort: true },
  plugins: [
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
      },
      manifest: {
        name: 'eventkv ledger',
        short_name: 'Ledger',
        description: 'An offline-first bank ledger on the eventkv event store.',
        start_url: '.',
        display: 'standalone',
        theme_color: '#1d4ed8',
        background_color: '#ffffff',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
    }),
  ],
});
