/** `Cache-Control: no-cache` (or no-store) asks for an answer read through to Mongo, past every cache. */
export function wantsBypass(cacheControl: string | string[] | undefined): boolean {
  const value = Array.isArray(cacheControl) ? cacheControl.join(',') : (cacheControl ?? '');
  return /(^|[\s,])no-(cache|store)($|[\s,=])/i.test(value);
}

/**
 * Internal header of the read service's cached list pages: the instant (epoch ms) until which the
 * page's highlights and membership stay true. The gateway keeps such a page no longer.
 */
export const VALID_UNTIL_HEADER = 'x-valid-until';
