/**
 * Brings the older service's users and clients into trackme. Users are written to `users` as the
 * gateway stores them; clients go through trackme's own write path, one create command per client
 * keyed by its id, so history, events, the read model and metrics follow as for any create.
 *
 * Idempotent and resumable: a client already in trackme (by id, deleted ones included) or a user
 * already there (by id) is skipped, and a command id is derived from the client id, so a command
 * published just before a kill is applied once even when the next run publishes it again.
 * Every record that cannot be taken is reported with its reason.
 */
import type { Db, Document } from 'mongodb';
import { CommandTypes, normalizeEmail, type CommandReply } from '@trackme/contracts';
import { withUniqueConflict } from '@trackme/platform';
import { IMPORT_ACTOR, fromLegacyClient, type LegacyClientOutcome } from './legacy-client.js';
import { fromLegacyUser } from './legacy-user.js';
import { legacyDate, legacyId } from './legacy-values.js';

export type Collection = 'users' | 'clients';

export interface ReportRecord {
  collection: Collection;
  legacy_id: string;
  reason: string;
}

export interface Counts {
  read: number;
  imported: number;
  /** already in trackme from an earlier run */
  already: number;
  /** reported with the reason */
  refused: number;
  /** published, but no reply came in time: the next run settles them */
  unanswered: number;
}

export interface Progress {
  collection: Collection;
  done: number;
  total: number;
  perSecond: number;
}

export interface LegacyImportDeps {
  source: Db;
  target: Db;
  stages: ReadonlySet<string>;
  /** publishes a command on trackme.client-commands keyed by the client id */
  publish: (clientId: string, command: { id: string; type: string; data: unknown }) => Promise<unknown>;
  /** the reply to a command, or null when none came in time; called before publishing */
  expectReply: (commandId: string) => Promise<CommandReply | null>;
  report: (record: ReportRecord) => void;
  onProgress?: (progress: Progress) => void;
  /** check and report everything, write nothing */
  dryRun?: boolean;
  /** commands in flight at once */
  window?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

const PAGE = 500;
const emptyCounts = (): Counts => ({ read: 0, imported: 0, already: 0, refused: 0, unanswered: 0 });

/** The command id of a client's import: the same in every run. */
export const importCommandId = (clientId: string) => `import-legacy:${clientId}`;

export async function importLegacy(deps: LegacyImportDeps): Promise<Record<Collection, Counts>> {
  const users = await importUsers(deps);
  const clients = await importClients(deps);
  return { users, clients };
}

async function* pages(db: Db, name: Collection, signal?: AbortSignal): AsyncGenerator<Document[]> {
  let page: Document[] = [];
  for await (const doc of db.collection(name).find({}).sort({ _id: 1 }).batchSize(PAGE)) {
    if (signal?.aborted) return;
    page.push(doc);
    if (page.length === PAGE) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0 && !signal?.aborted) yield page;
}

function progressTicker(deps: LegacyImportDeps, collection: Collection, total: number, counts: Counts) {
  const started = performance.now();
  const tick = () => {
    const done = counts.imported + counts.already + counts.refused + counts.unanswered;
    deps.onProgress?.({ collection, done, total, perSecond: done / Math.max((performance.now() - started) / 1000, 0.001) });
  };
  const timer = setInterval(tick, 1_000);
  return () => {
    clearInterval(timer);
    tick();
  };
}

async function importUsers(deps: LegacyImportDeps): Promise<Counts> {
  const counts = emptyCounts();
  const target = deps.target.collection('users');
  const stop = progressTicker(deps, 'users', await deps.source.collection('users').countDocuments(), counts);
  try {
    for await (const page of pages(deps.source, 'users', deps.signal)) {
      for (const doc of page) {
        counts.read += 1;
        const outcome = fromLegacyUser(doc, deps.now?.() ?? new Date());
        if (!outcome.ok) {
          counts.refused += 1;
          deps.report({ collection: 'users', legacy_id: outcome.legacyId, reason: outcome.reason });
          continue;
        }
        const { user } = outcome;
        if (await target.findOne({ _id: user._id as never }, { projection: { _id: 1 } })) {
          counts.already += 1;
          continue;
        }
        const holder = await target.findOne({ email_normalized: user.email_normalized }, { projection: { _id: 1 } });
        if (holder) {
          counts.refused += 1;
          deps.report({ collection: 'users', legacy_id: outcome.legacyId, reason: `email: ${user.email} is already used by user ${String(holder['_id'])}` });
          continue;
        }
        if (!deps.dryRun) await withUniqueConflict(() => target.insertOne(user as never), () => ({ message: `email ${user.email} is taken`, code: 'email_taken' }));
        counts.imported += 1;
      }
    }
  } finally {
    stop();
  }
  return counts;
}

type Ready = Extract<LegacyClientOutcome, { ok: true }>;

/**
 * Which older client keeps each email that several share (the older service compared emails by
 * case): the one registered first, then the lowest id. Decided over the whole collection up
 * front, so every run picks the same one whatever the order of the pages.
 */
async function emailOwners(source: Db): Promise<Map<string, string>> {
  const owners = new Map<string, { id: string; at: number }>();
  const docs = source.collection('clients').find({}, { projection: { _id: 1, email: 1, registration_date: 1, last_updated: 1 } });
  for await (const doc of docs) {
    if (typeof doc['email'] !== 'string') continue;
    const id = legacyId(doc['_id']) ?? '';
    const at = Date.parse(legacyDate(doc['registration_date']) ?? legacyDate(doc['last_updated']) ?? '') || Number.POSITIVE_INFINITY;
    const key = normalizeEmail(doc['email']);
    const held = owners.get(key);
    if (!held || at < held.at || (at === held.at && id < held.id)) owners.set(key, { id, at });
  }
  return new Map([...owners].map(([email, { id }]) => [email, id]));
}

async function importClients(deps: LegacyImportDeps): Promise<Counts> {
  const counts = emptyCounts();
  const clients = deps.target.collection('clients');
  const owners = await emailOwners(deps.source);
  const inFlight = new Set<Promise<void>>();
  const refuse = (legacyId: string, reason: string) => {
    counts.refused += 1;
    deps.report({ collection: 'clients', legacy_id: legacyId, reason });
  };
  const stop = progressTicker(deps, 'clients', await deps.source.collection('clients').countDocuments(), counts);
  try {
    for await (const page of pages(deps.source, 'clients', deps.signal)) {
      counts.read += page.length;
      const ready: Ready[] = [];
      for (const doc of page) {
        const outcome = fromLegacyClient(doc, deps.stages);
        if (!outcome.ok) {
          refuse(outcome.legacyId, outcome.reason);
          continue;
        }
        const owner = owners.get(normalizeEmail(outcome.email));
        if (owner !== undefined && owner !== outcome.legacyId) {
          refuse(outcome.legacyId, `email: ${outcome.email} is also the email of older client ${JSON.stringify(owner)}, registered earlier`);
          continue;
        }
        ready.push(outcome);
      }
      const ids = ready.map((r) => r.clientId);
      const present = new Set((await clients.find({ _id: { $in: ids as never[] } }, { projection: { _id: 1 } }).toArray()).map((d) => String(d['_id'])));
      // the clients service refuses a taken email itself (409 email_taken, reported); a dry run has
      // no such answer, so it looks the emails up (a scan on a server without secondary indexes)
      const holders = deps.dryRun
        ? await clients.find({ email_normalized: { $in: ready.map((r) => normalizeEmail(r.email)) } }, { projection: { _id: 1, email_normalized: 1 } }).toArray()
        : [];
      const holderOf = new Map(holders.map((d) => [String(d['email_normalized']), String(d['_id'])]));
      for (const item of ready) {
        if (present.has(item.clientId)) {
          counts.already += 1;
          continue;
        }
        const holder = holderOf.get(normalizeEmail(item.email));
        if (holder !== undefined && holder !== item.clientId) {
          refuse(item.legacyId, `email: ${item.email} is already used by client ${holder}`);
          continue;
        }
        if (deps.dryRun) {
          counts.imported += 1;
          continue;
        }
        if (inFlight.size >= (deps.window ?? 256)) await Promise.race(inFlight);
        const task = sendCreate(deps, item, counts, refuse).finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
    }
    await Promise.all(inFlight);
  } finally {
    stop();
  }
  return counts;
}

async function sendCreate(deps: LegacyImportDeps, item: Ready, counts: Counts, refuse: (legacyId: string, reason: string) => void): Promise<void> {
  const id = importCommandId(item.clientId);
  const reply = deps.expectReply(id);
  await deps.publish(item.clientId, {
    id,
    type: CommandTypes.createClient,
    data: { client_id: item.clientId, actor: IMPORT_ACTOR, fields: item.fields, imported: item.imported },
  });
  const answer = await reply;
  if (!answer) counts.unanswered += 1;
  else if (answer.outcome === 'created') counts.imported += 1;
  else if (answer.outcome === 'refused' && answer.refusal.code === 'client_exists') counts.already += 1;
  else refuse(item.legacyId, reasonOf(answer));
}

function reasonOf(reply: CommandReply): string {
  if (reply.outcome !== 'refused') return `answered ${reply.outcome} where a create was expected`;
  const { code, message, errors } = reply.refusal;
  const fields = (errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
  return `refused by trackme (${code}): ${message}${fields ? ` (${fields})` : ''}`;
}
