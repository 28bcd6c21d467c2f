import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ConfigError, NotFoundError } from '@trackme/platform';

/** Where `npm run build -w web` writes the console, seen from this file in src/ or dist/. */
export const BUILT_CONSOLE_DIR = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

/** Vite names every asset under assets/ after its content: a year, never revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface ConsoleAssetsOptions {
  basePath: string;
  /** the built console; undefined: not built, every console path answers 404 saying so */
  dir: string | undefined;
}

/**
 * The console's folder: CONSOLE_DIR when set (one without index.html stops the start), else the
 * workspace's build when present. A gateway without a built console still serves the API.
 */
export function consoleDirOf(configured: string | undefined): string | undefined {
  if (configured !== undefined) {
    if (!existsSync(path.join(configured, 'index.html'))) {
      throw new ConfigError('gateway', [{ variable: 'CONSOLE_DIR', message: `${configured} has no index.html: build the console with npm run build -w web` }]);
    }
    return configured;
  }
  return existsSync(path.join(BUILT_CONSOLE_DIR, 'index.html')) ? BUILT_CONSOLE_DIR : undefined;
}

/**
 * The console under `{BASE_PATH}/console`: its files, and index.html for every other path below
 * it (the page routes itself). Routes are made per file at start-up, so a request is never a
 * file-system lookup, and the API's routes are untouched.
 */
export const consoleAssets: FastifyPluginAsync<ConsoleAssetsOptions> = async (app, { basePath, dir }) => {
  const prefix = `${basePath}/console`;
  if (!dir) {
    const missing = async () => {
      throw new NotFoundError('the console is not built on this gateway: run npm run build -w web');
    };
    app.get(prefix, { schema: { hide: true } }, missing);
    app.get(`${prefix}/*`, { schema: { hide: true } }, missing);
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: `${prefix}/`,
    wildcard: false,
    index: false,
    serve: true,
    // the HTML names the current hashed files, so it is always revalidated
    setHeaders: (res, file) => res.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? IMMUTABLE : 'no-cache'),
  });
  // the build's paths are relative; <base> makes them, and the page's routes, hang off this prefix
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8').replace('<head>', `<head>\n    <base href="${prefix}/" />`);
  const page = async (_request: unknown, reply: FastifyReply) => reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  app.get(prefix, { schema: { hide: true } }, page);
  app.get(`${prefix}/*`, { schema: { hide: true } }, async (request, reply) => {
    // a missing hashed file is an old build's: a 404, not the page, so a script never gets HTML
    if ((request.params as { '*': string })['*'].startsWith('assets/')) throw new NotFoundError('no such console asset');
    return page(request, reply);
  });
};
