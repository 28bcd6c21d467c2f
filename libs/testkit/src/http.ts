import { adminHeaders } from './tokens.js';

/** A small JSON-over-HTTP client for end-to-end tests, speaking to a service like a user would. */
export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer<T>> {
  // an admin's token unless the test sends its own (an empty authorization sends none)
  const auth = 'authorization' in headers ? (headers['authorization'] ? { authorization: headers['authorization'] } : {}) : await adminHeaders();
  const rest = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'authorization'));
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth, ...rest },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}
