/**
 * A client document of the older service, turned into the create command trackme's write path
 * takes. Pure: the importer decides what to do with the result.
 *
 * The older documents (collection `clients`) hold `current_stage` where trackme says `stage`,
 * contracts with their id in `_id`, dates as BSON dates, RFC 3339 strings or `DD.MM.YYYY`, and one
 * document with `_id: ""` (a bug of its first create).
 */
import { createHash } from 'node:crypto';
import { Value } from 'typebox/value';
import { CreateClientCommandSchema, normalizeEmail, type CreateClientBody, type ImportedClient } from '@trackme/contracts';
import { legacyDate, legacyId, textOrUndefined } from './legacy-values.js';

/** The actor the client history records for an imported client. */
export const IMPORT_ACTOR = { subject: 'import-legacy', role: 'system' } as const;

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type LegacyClientOutcome =
  | { ok: true; legacyId: string; clientId: string; email: string; fields: CreateClientBody; imported: ImportedClient }
  | { ok: false; legacyId: string; reason: string };

/**
 * trackme's id for an older client: its own id when trackme's id rules allow it (ObjectId hex
 * and most strings do), else one derived from its email, so every run picks the same id.
 */
export function clientIdOf(legacy: string, email: string): string {
  if (CLIENT_ID.test(legacy)) return legacy;
  return `legacy-${createHash('sha256').update(normalizeEmail(email)).digest('hex').slice(0, 32)}`;
}

function contractOf(raw: unknown, index: number): Record<string, unknown> | string {
  if (!raw || typeof raw !== 'object') return `contracts[${index}] is not an object`;
  const doc = raw as Record<string, unknown>;
  const id = legacyId(doc['_id'] ?? doc['id']);
  if (!id) return `contracts[${index}] has no id`;
  const contract: Record<string, unknown> = { id };
  for (const key of ['name', 'number', 'status', 'payment_frequency'] as const) {
    const text = textOrUndefined(doc[key]);
    if (text !== undefined) contract[key] = text;
  }
  for (const key of ['conclusion_date', 'expiration_date'] as const) {
    if (doc[key] === undefined || doc[key] === null || doc[key] === '') continue;
    const date = legacyDate(doc[key]);
    if (!date) return `contracts[${index}].${key} is not a date: ${JSON.stringify(doc[key])}`;
    contract[key] = date;
  }
  const amount = typeof doc['amount'] === 'string' && doc['amount'].trim() !== '' ? Number(doc['amount']) : doc['amount'];
  if (amount !== undefined && amount !== null) contract['amount'] = amount;
  contract['autopayment'] = doc['autopayment'];
  return contract;
}

/** Reads one older client document; `ok: false` says why it cannot be taken. */
export function fromLegacyClient(doc: Record<string, unknown>, stages: ReadonlySet<string>): LegacyClientOutcome {
  const legacy = legacyId(doc['_id']) ?? '';
  const refuse = (reason: string): LegacyClientOutcome => ({ ok: false, legacyId: legacy, reason });
  const email = typeof doc['email'] === 'string' ? doc['email'].trim() : '';
  if (!email) return refuse('email: missing');

  const stage = textOrUndefined(doc['current_stage'] ?? doc['stage']);
  if (stage === undefined) return refuse('stage: missing (current_stage)');
  if (!stages.has(stage)) return refuse(`stage: "${stage}" is not a configured stage`);

  const registered = legacyDate(doc['registration_date']) ?? legacyDate(doc['last_updated']);
  if (!registered) return refuse(`registration_date: not a date: ${JSON.stringify(doc['registration_date'] ?? null)}`);
  const lastUpdated = legacyDate(doc['last_updated']) ?? registered;
  const lastLogin = doc['last_login'] === undefined || doc['last_login'] === null || doc['last_login'] === '' ? undefined : legacyDate(doc['last_login']);
  if (lastLogin === null) return refuse(`last_login: not a date: ${JSON.stringify(doc['last_login'])}`);

  const contracts: Record<string, unknown>[] = [];
  const rawContracts = doc['contracts'] ?? [];
  if (!Array.isArray(rawContracts)) return refuse('contracts: not a list');
  for (const [index, raw] of rawContracts.entries()) {
    const contract = contractOf(raw, index);
    if (typeof contract === 'string') return refuse(contract);
    contracts.push(contract);
  }

  const source = textOrUndefined(doc['source']);
  const channel = textOrUndefined(doc['channel']);
  const fields = {
    name: typeof doc['name'] === 'string' ? doc['name'] : '',
    email,
    stage,
    is_active: typeof doc['is_active'] === 'boolean' ? doc['is_active'] : true,
    ...(source !== undefined ? { source } : {}),
    ...(channel !== undefined ? { channel } : {}),
    app: doc['app'] === undefined || doc['app'] === null || doc['app'] === '' ? 'not_installed' : doc['app'],
    ...(lastLogin !== undefined ? { last_login: lastLogin } : {}),
    contracts,
  };
  const clientId = clientIdOf(legacy, email);
  const imported = { registration_date: registered, last_updated: lastUpdated };
  const command = { client_id: clientId, actor: IMPORT_ACTOR, fields, imported };
  // the clients service checks the same schema; refused here, a record is reported, not dead-lettered
  const error = Value.Errors(CreateClientCommandSchema, command)[0];
  if (error) {
    const field = error.instancePath.replace(/^\/(fields|imported)\/?/, '').replaceAll('/', '.') || 'client';
    return refuse(`${field}: ${error.message}`);
  }
  return { ok: true, legacyId: legacy, clientId, email, fields: fields as CreateClientBody, imported };
}
