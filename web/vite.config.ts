import { defineConfig } from 'vite';

/**
 * Static assets for the gateway to serve under {BASE_PATH}/console. Paths are relative: the
 * gateway gives the page a <base href>, so one build works under any BASE_PATH.
 */
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, reportCompressedSize: false },
});
