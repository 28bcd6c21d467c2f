import { normalizeEmail, type Client, type ListClientsQuery } from '@trackme/contracts';
import { lastLoginCutoff, lastLoginFlipsAt, type HighlightPolicy } from './highlights.js';

/**
 * The fields a list query filters and sorts on, compact enough that every client's row can be
 * read and filtered at once (about 150 bytes each).
 */
export interface FilterRow {
  id: string;
  stage: string;
  source: string | null;
  channel: string | null;
  app: Client['app'];
  active: boolean;
  email: string;
  /** last_updated, ms */
  updated: number;
  /** last_login, ms */
  login: number | null;
  /** some contract has autopayment disabled */
  autopayOff: boolean;
}

export function rowOf(client: Client): FilterRow {
  return {
    id: client.id,
    stage: client.stage,
    source: client.source,
    channel: client.channel,
    app: client.app,
    active: client.is_active,
    email: normalizeEmail(client.email),
    updated: Date.parse(client.last_updated),
    login: client.last_login === null ? null : Date.parse(client.last_login),
    autopayOff: client.contracts.some((contract) => contract.autopayment === 'disabled'),
  };
}

const dayStart = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

type Predicate = (row: FilterRow) => boolean;

/**
 * A list query as a predicate on rows, with exactly the meaning of the Mongo filter the read
 * service sends when it reads through (client-source.ts); a test runs both on the same data.
 */
export function rowPredicate(query: Partial<ListClientsQuery>, now: number, policy: HighlightPolicy): Predicate {
  const checks: Predicate[] = [];
  if (query.is_active !== undefined) checks.push((row) => row.active === query.is_active);
  if (query.id !== undefined) checks.push((row) => row.id === query.id);
  if (query.email !== undefined) {
    const email = normalizeEmail(query.email);
    checks.push((row) => row.email === email);
  }
  if (query.stage !== undefined) checks.push((row) => row.stage === query.stage);
  if (query.source !== undefined) checks.push((row) => row.source === query.source);
  if (query.channel !== undefined) checks.push((row) => row.channel === query.channel);
  if (query.app !== undefined) checks.push((row) => row.app === query.app);
  if (query.updated !== undefined) {
    const from = dayStart(query.updated);
    checks.push((row) => row.updated >= from);
  }
  if (query.last_login !== undefined) {
    const from = dayStart(query.last_login);
    checks.push((row) => row.login !== null && row.login >= from);
  }
  if (query.highlighted !== undefined) {
    const cutoff = lastLoginCutoff(now, policy).getTime();
    const wanted = query.highlighted;
    checks.push((row) => (row.app === 'not_installed' || row.login === null || row.login < cutoff || row.autopayOff) === wanted);
  }
  return (row) => checks.every((check) => check(row));
}

/** Newest change first; the id breaks ties so pages never overlap. */
export function byNewestChange(a: FilterRow, b: FilterRow): number {
  return b.updated - a.updated || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** One page of rows, the total, and when a `highlighted` selection may change by the clock alone. */
export function selectRows(
  rows: Iterable<FilterRow>,
  query: ListClientsQuery,
  now: number,
  policy: HighlightPolicy,
): { page: FilterRow[]; total: number; membershipValidUntil: number } {
  const matches = rowPredicate(query, now, policy);
  const { highlighted, ...rest } = query;
  const base = highlighted === undefined ? undefined : rowPredicate(rest, now, policy);
  const cutoff = lastLoginCutoff(now, policy).getTime();
  let oldestRecentLogin = Number.POSITIVE_INFINITY;
  const selected: FilterRow[] = [];
  for (const row of rows) {
    if (matches(row)) selected.push(row);
    if (base && row.login !== null && row.login >= cutoff && row.login < oldestRecentLogin && base(row)) oldestRecentLogin = row.login;
  }
  selected.sort(byNewestChange);
  return {
    page: selected.slice(query.offset, query.offset + query.limit),
    total: selected.length,
    membershipValidUntil: Number.isFinite(oldestRecentLogin) ? lastLoginFlipsAt(oldestRecentLogin, policy) : Number.POSITIVE_INFINITY,
  };
}
