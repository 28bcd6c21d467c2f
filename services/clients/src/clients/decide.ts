import type { Client, ClientCommand, Contract, CreateClientBody, PatchClientBody, StageProcess } from '@trackme/contracts';
import { CommandTypes } from '@trackme/contracts';
import { ConflictError, NotFoundError } from '@trackme/platform';
import { resolveImportedStage, resolveInitialStage, resolveStageMove } from './stage-rules.js';

export type { ClientCommand } from '@trackme/contracts';

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

export type DomainEvent =
  | { type: 'ClientCreated'; client: Client; imported?: true }
  | { type: 'ClientUpdated'; changes: FieldChanges; client: Client }
  | { type: 'ClientStageChanged'; from: string; to: string; rollback: boolean; client: Client }
  | { type: 'ClientDeleted'; client: Client };

export interface Decision {
  /** what the command did; a refusal is thrown as a domain error instead */
  outcome: 'created' | 'changed' | 'unchanged' | 'deleted';
  /** the client after the command (null once deleted) */
  client: Client | null;
  /** empty for a no-op: nothing is written and no event is emitted */
  events: DomainEvent[];
}

export interface DecideContext {
  process: StageProcess;
  now: Date;
}

type EditableFields = Pick<Client, 'name' | 'email' | 'is_active' | 'source' | 'channel' | 'app' | 'last_login' | 'contracts'>;
const EDITABLE: ReadonlyArray<keyof EditableFields> = ['name', 'email', 'is_active', 'source', 'channel', 'app', 'last_login', 'contracts'];

/** Values of a full representation; optional fields left out are cleared to their defaults. */
function fullFields(fields: CreateClientBody): EditableFields {
  return {
    name: fields.name.trim(),
    email: fields.email.trim(),
    is_active: fields.is_active ?? true,
    source: fields.source ?? null,
    channel: fields.channel ?? null,
    app: fields.app ?? 'not_installed',
    last_login: fields.last_login ? new Date(fields.last_login).toISOString() : null,
    contracts: (fields.contracts ?? []).map(normalizeContract),
  };
}

function patchedFields(current: Client, patch: PatchClientBody): EditableFields {
  const next: EditableFields = { ...pickEditable(current) };
  if (patch.name !== undefined) next.name = patch.name.trim();
  if (patch.email !== undefined) next.email = patch.email.trim();
  if (patch.is_active !== undefined) next.is_active = patch.is_active;
  if (patch.source !== undefined) next.source = patch.source;
  if (patch.channel !== undefined) next.channel = patch.channel;
  if (patch.app !== undefined) next.app = patch.app;
  if (patch.last_login !== undefined) next.last_login = patch.last_login === null ? null : new Date(patch.last_login).toISOString();
  if (patch.contracts !== undefined) next.contracts = patch.contracts.map(normalizeContract);
  return next;
}

const utc = (instant: string): string => new Date(instant).toISOString();

/**
 * A contract as stored: text trimmed like the client's name, dates in UTC like `last_login`, so
 * restating a contract with another offset or spacing is no change.
 */
function normalizeContract(contract: Contract): Contract {
  const { name, number, status, payment_frequency, conclusion_date, expiration_date } = contract;
  return {
    ...contract,
    ...(name !== undefined ? { name: name.trim() } : {}),
    ...(number !== undefined ? { number: number.trim() } : {}),
    ...(status !== undefined ? { status: status.trim() } : {}),
    ...(payment_frequency !== undefined ? { payment_frequency: payment_frequency.trim() } : {}),
    ...(conclusion_date !== undefined ? { conclusion_date: utc(conclusion_date) } : {}),
    ...(expiration_date !== undefined ? { expiration_date: utc(expiration_date) } : {}),
  };
}

function pickEditable(client: Client): EditableFields {
  return Object.fromEntries(EDITABLE.map((key) => [key, client[key]])) as unknown as EditableFields;
}

/** JSON with object keys sorted, so restating a value with its keys in another order is no change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function diff(before: EditableFields, after: EditableFields): FieldChanges {
  const changes: FieldChanges = {};
  for (const key of EDITABLE) {
    if (canonical(before[key]) !== canonical(after[key])) changes[key] = { from: before[key], to: after[key] };
  }
  return changes;
}

function assertUniqueContractIds(fields: EditableFields): void {
  const seen = new Set<string>();
  for (const contract of fields.contracts) {
    if (seen.has(contract.id)) throw new ConflictError(`contract id "${contract.id}" appears twice`, 'duplicate_contract');
    seen.add(contract.id);
  }
}

/**
 * The client aggregate's rules as one pure function: the command, the current state (null when
 * the client does not exist) and the clock in; the outcome and the events to record out.
 * Email uniqueness across clients is the repository's (unique index), not decided here.
 */
export function decide(command: ClientCommand, state: Client | null, { process, now }: DecideContext): Decision {
  const at = now.toISOString();
  switch (command.type) {
    case CommandTypes.createClient: {
      if (state) throw new ConflictError(`client ${command.data.client_id} already exists`, 'client_exists');
      const fields = fullFields(command.data.fields);
      assertUniqueContractIds(fields);
      const { imported } = command.data;
      const client: Client = {
        id: command.data.client_id,
        ...fields,
        stage: imported ? resolveImportedStage(process, command.data.fields.stage) : resolveInitialStage(process, command.data.fields.stage),
        registration_date: imported ? utc(imported.registration_date) : at,
        last_updated: imported ? utc(imported.last_updated) : at,
        version: 1,
      };
      return { outcome: 'created', client, events: [{ type: 'ClientCreated', client, ...(imported ? { imported: true as const } : {}) }] };
    }
    case CommandTypes.replaceClient:
    case CommandTypes.patchClient:
    case CommandTypes.moveClientStage: {
      if (!state) throw new NotFoundError(`client ${command.data.client_id} not found`);
      // a stage move alone keeps the fields as stored
      const fields =
        command.type === CommandTypes.replaceClient
          ? fullFields(command.data.fields)
          : command.type === CommandTypes.patchClient
            ? patchedFields(state, command.data.fields)
            : pickEditable(state);
      assertUniqueContractIds(fields);
      const move = command.type === CommandTypes.patchClient ? undefined : resolveStageMove(process, state.stage, command.data.fields.stage);
      const changes = diff(pickEditable(state), fields);
      const moved = move?.kind === 'move' ? move : undefined;
      if (Object.keys(changes).length === 0 && !moved) return { outcome: 'unchanged', client: state, events: [] };
      const client: Client = {
        ...state,
        ...fields,
        stage: moved ? moved.to : state.stage,
        last_updated: at,
        version: state.version + 1,
      };
      const events: DomainEvent[] = [];
      if (Object.keys(changes).length > 0) events.push({ type: 'ClientUpdated', changes, client });
      if (moved) events.push({ type: 'ClientStageChanged', from: moved.from, to: moved.to, rollback: moved.rollback, client });
      return { outcome: 'changed', client, events };
    }
    case CommandTypes.deleteClient: {
      if (!state) throw new NotFoundError(`client ${command.data.client_id} not found`);
      const client: Client = { ...state, last_updated: at, version: state.version + 1 };
      return { outcome: 'deleted', client: null, events: [{ type: 'ClientDeleted', client }] };
    }
    default: {
      const unknown: never = command;
      throw new Error(`unhandled command ${JSON.stringify(unknown)}`);
    }
  }
}
