/**
 * The public API, as the console calls it: the access token lives in this module only (never in
 * storage), the refresh token in an httpOnly cookie the page cannot read. A 401 refreshes once
 * and retries; a session that cannot be refreshed sends the user to sign in, remembering the page.
 */

export type Role = 'super_user' | 'admin' | 'manager';
export interface User {
  id: string;
  name: string;
  email: string;
  role: Role;
}
export interface FieldError {
  field: string;
  message: string;
}
export interface Problem {
  status: number;
  title: string;
  detail?: string;
  code?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
  /** the field errors by field name (the last part of `body.email` …) */
  fields(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) out[e.field.split(/[./]/).pop() ?? e.field] = e.message;
    return out;
  }
}

/** Where the page is served, e.g. /api/v1/console/, and the API beside it. */
export const consoleBase = new URL(document.baseURI).pathname;
export const apiBase = consoleBase.replace(/console\/?$/, '');
const CSRF = { 'x-trackme-csrf': '1' };

let token: string | undefined;
let user: User | undefined;
const listeners = new Set<() => void>();
export const currentUser = (): User | undefined => user;
export const onSessionChange = (listener: () => void): (() => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
let onExpired: () => void = () => undefined;
export const whenSessionExpires = (handler: () => void): void => {
  onExpired = handler;
};

function setSession(session: { token: string; user: User } | undefined): void {
  token = session?.token;
  user = session?.user;
  for (const listener of listeners) listener();
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    return (await response.json()) as Problem;
  } catch {
    return { status: response.status, title: response.statusText || `HTTP ${response.status}` };
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  const response = await fetch(`${apiBase}auth/session`, { method: 'POST', headers: { ...CSRF, 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!response.ok) throw new ApiError(await problemOf(response));
  setSession(((await response.json()) as { data: { token: string; user: User } }).data);
}

let refreshing: Promise<boolean> | undefined;
/** Exchanges the cookie for an access token; concurrent callers share one exchange. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await fetch(`${apiBase}auth/session/refresh`, { method: 'POST', headers: CSRF });
      if (!response.ok) {
        setSession(undefined);
        return false;
      }
      setSession(((await response.json()) as { data: { token: string; user: User } }).data);
      return true;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

export async function signOut(): Promise<void> {
  await fetch(`${apiBase}auth/session`, { method: 'DELETE', headers: CSRF }).catch(() => undefined);
  setSession(undefined);
}

export interface Answer<T> {
  status: number;
  data: T;
  meta?: { total: number; limit: number; offset: number };
}

type Query = Record<string, string | number | boolean | undefined>;

export async function call<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<Answer<T>> {
  const url = new URL(`${apiBase}${path}`, location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  const send = () =>
    fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(method === 'GET' ? {} : CSRF),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  let response = await send();
  if (response.status === 401) {
    if (await refreshSession()) response = await send();
    else onExpired();
  }
  if (!response.ok) throw new ApiError(await problemOf(response));
  if (response.status === 204) return { status: 204, data: undefined as T };
  const body = (await response.json()) as { data: T; meta?: Answer<T>['meta'] };
  return { status: response.status, data: body.data, ...(body.meta ? { meta: body.meta } : {}) };
}

export const mayWrite = (u: User | undefined): boolean => u?.role === 'admin' || u?.role === 'super_user';
