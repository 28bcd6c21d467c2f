import {
  ActivityEventTypes,
  ActivityTypes,
  ClientEventTypes,
  type Actor,
  type Client,
  type ClientAppStatusChanged,
  type ClientAutopaymentChanged,
  type ClientCreated,
  type ClientDeleted,
  type ClientLoggedIn,
  type ClientStageChanged,
  type ClientUpdated,
  type Envelope,
} from '@trackme/contracts';
import { appliedOrder, isRollback, type ClientHistory, type History } from './history.js';
import { Prng } from './prng.js';

export type GeneratedEnvelope =
  | Envelope<ClientCreated>
  | Envelope<ClientUpdated>
  | Envelope<ClientStageChanged>
  | Envelope<ClientDeleted>
  | Envelope<ClientLoggedIn>
  | Envelope<ClientAppStatusChanged>
  | Envelope<ClientAutopaymentChanged>;

const ACTOR: Actor = { subject: 'generator' };
/** the fields a ClientUpdated may list, in trackme's order */
const EDITABLE = ['name', 'email', 'is_active', 'source', 'channel', 'app', 'last_login', 'contracts'] as const;
const ID_STREAM = 0x1d5eed;

const iso = (ms: number) => new Date(ms).toISOString();

interface Emitted {
  envelope: GeneratedEnvelope;
  appliedAt: number;
}

/**
 * The change events trackme's clients service would have emitted for a history, as it would:
 * each carries the client after the change and the client's version (a write that updates fields
 * and moves the stage emits ClientUpdated then ClientStageChanged with one version); activity
 * events bump the version but leave last_updated; a ClientLoggedIn's envelope is dated when it was
 * applied, its `activity.occurred_at` when the client logged in.
 * Delivery order: each client's events in the order applied, clients interleaved by time (ties
 * by client order), as a consumer reading the client partitions sees them.
 */
export function toEnvelopes(history: History): GeneratedEnvelope[] {
  const ids = new Prng(history.seed ^ ID_STREAM);
  const perClient = history.clients.map((client) => clientEnvelopes(history, client, ids));
  const all = perClient.flatMap((emitted, clientIndex) => emitted.map((e, seq) => ({ ...e, clientIndex, seq })));
  all.sort((a, b) => a.appliedAt - b.appliedAt || a.clientIndex - b.clientIndex || a.seq - b.seq);
  return all.map((e) => e.envelope);
}

function clientEnvelopes(history: History, facts: ClientHistory, ids: Prng): Emitted[] {
  const { process } = history;
  const out: Emitted[] = [];
  const emit = <T>(type: string, occurredAt: number, correlationId: string, data: T, appliedAt = occurredAt) =>
    out.push({
      envelope: { id: ids.uuid(), type, version: 1, occurred_at: iso(occurredAt), correlation_id: correlationId, data } as GeneratedEnvelope,
      appliedAt,
    });
  const { created } = facts;
  let client: Client = {
    id: facts.id,
    name: facts.name,
    email: facts.email,
    stage: created.stage,
    is_active: created.is_active,
    source: created.source,
    channel: created.channel,
    app: created.app,
    last_login: null,
    registration_date: iso(created.at),
    last_updated: iso(created.at),
    contracts: created.contracts.map((c) => ({ ...c })),
    version: 1,
  };
  const common = (commandId: string) => ({ client_id: facts.id, version: client.version, command_id: commandId, actor: ACTOR });
  const command = ids.uuid();
  emit<ClientCreated>(ClientEventTypes.created, created.at, command, { ...common(command), client });

  for (const fact of appliedOrder(facts)) {
    if (fact.kind === 'login') {
      const { at, arrivedAt } = fact.login;
      const eventId = ids.uuid();
      const lastLogin = client.last_login !== null && Date.parse(client.last_login) >= at ? client.last_login : iso(at);
      client = { ...client, last_login: lastLogin, version: client.version + 1 };
      emit<ClientLoggedIn>(
        ActivityEventTypes.loggedIn,
        arrivedAt,
        eventId,
        { ...common(eventId), activity: activity(eventId, ActivityTypes.login, at), last_login: lastLogin, client },
        arrivedAt,
      );
      continue;
    }
    const change = fact.change;
    switch (change.kind) {
      case 'update': {
        const before = client;
        client = { ...client, ...change.fields, stage: change.stage ?? client.stage, last_updated: iso(change.at), version: client.version + 1 };
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of EDITABLE) {
          if (JSON.stringify(before[key]) !== JSON.stringify(client[key])) changes[key] = { from: before[key], to: client[key] };
        }
        const commandId = ids.uuid();
        if (Object.keys(changes).length > 0) emit<ClientUpdated>(ClientEventTypes.updated, change.at, commandId, { ...common(commandId), changes, client });
        if (change.stage !== undefined) {
          emit<ClientStageChanged>(ClientEventTypes.stageChanged, change.at, commandId, {
            ...common(commandId),
            from: before.stage,
            to: change.stage,
            rollback: isRollback(process, before.stage, change.stage),
            client,
          });
        }
        if (Object.keys(changes).length === 0 && change.stage === undefined) throw new Error(`client ${facts.id}: an update that changes nothing`);
        break;
      }
      case 'app': {
        const eventId = ids.uuid();
        const from = client.app;
        client = { ...client, app: change.to, version: client.version + 1 };
        const type = change.to === 'installed' ? ActivityTypes.appInstalled : ActivityTypes.appUninstalled;
        emit<ClientAppStatusChanged>(ActivityEventTypes.appStatusChanged, change.at, eventId, {
          ...common(eventId),
          activity: activity(eventId, type, change.at),
          from,
          to: change.to,
          client,
        });
        break;
      }
      case 'autopayment': {
        const eventId = ids.uuid();
        const contract = client.contracts.find((c) => c.id === change.contractId);
        if (!contract) throw new Error(`client ${facts.id}: unknown contract ${change.contractId}`);
        client = {
          ...client,
          contracts: client.contracts.map((c) => (c.id === change.contractId ? { ...c, autopayment: change.to } : c)),
          version: client.version + 1,
        };
        const type = change.to === 'enabled' ? ActivityTypes.autopaymentEnabled : ActivityTypes.autopaymentDisabled;
        emit<ClientAutopaymentChanged>(ActivityEventTypes.autopaymentChanged, change.at, eventId, {
          ...common(eventId),
          activity: activity(eventId, type, change.at),
          contract_id: change.contractId,
          from: contract.autopayment,
          to: change.to,
          client,
        });
        break;
      }
      case 'delete': {
        const commandId = ids.uuid();
        client = { ...client, last_updated: iso(change.at), version: client.version + 1 };
        emit<ClientDeleted>(ClientEventTypes.deleted, change.at, commandId, { ...common(commandId), client });
        break;
      }
      default: {
        const unknown: never = change;
        throw new Error(`unknown change ${JSON.stringify(unknown)}`);
      }
    }
  }
  return out;
}

function activity(eventId: string, type: string, at: number): ClientLoggedIn['activity'] {
  return { event_id: eventId, type, occurred_at: iso(at), source: 'generator' };
}
