import type { StageProcess } from '@trackme/contracts';

/**
 * A client history as raw facts: what happened to each client and when, in the simplest form the
 * metrics oracle can replay. The change events trackme would have emitted are derived from it
 * (toEnvelopes), so the service under test and the oracle read the same story in two forms.
 * Every time is epoch milliseconds.
 */

export type AppStatus = 'installed' | 'not_installed';
export type Autopayment = 'enabled' | 'disabled';

export interface ContractFact {
  id: string;
  autopayment: Autopayment;
}

/** The client as it was created (`at` becomes its registration_date). */
export interface ClientCreation {
  at: number;
  stage: string;
  source: string | null;
  channel: string | null;
  is_active: boolean;
  app: AppStatus;
  contracts: ContractFact[];
}

/** Fields a write command may set (the generator never changes source or channel). */
export interface FieldValues {
  is_active?: boolean;
  app?: AppStatus;
  contracts?: ContractFact[];
  source?: string | null;
  channel?: string | null;
}

/** One change of a client after its creation, other than a login. */
export type ClientChange =
  /**
   * A write command (PUT/PATCH): field changes, a stage move to a neighbour, or both — then trackme
   * emits ClientUpdated and ClientStageChanged with the same version.
   */
  | { kind: 'update'; at: number; fields?: FieldValues; stage?: string }
  /** reported activity: app installed / uninstalled (ClientAppStatusChanged) */
  | { kind: 'app'; at: number; to: AppStatus }
  /** reported activity: a contract's autopayment enabled / disabled (ClientAutopaymentChanged) */
  | { kind: 'autopayment'; at: number; contractId: string; to: Autopayment }
  /** the last fact of a deleted client (ClientDeleted) */
  | { kind: 'delete'; at: number };

/** A login (ClientLoggedIn): when it happened, and when trackme applied it (later for a late one). */
export interface LoginFact {
  at: number;
  arrivedAt: number;
}

export interface ClientHistory {
  id: string;
  name: string;
  email: string;
  created: ClientCreation;
  /** strictly increasing `at`, all after the creation; a `delete` is the last one */
  changes: ClientChange[];
  /** in order of `at`; applied in order of `arrivedAt` */
  logins: LoginFact[];
}

export interface History {
  seed: number;
  /** the history lies within (start, end] */
  start: number;
  end: number;
  process: StageProcess;
  clients: ClientHistory[];
}

/** Whether moving from one stage to another is a rollback (to a lower order), as trackme decides it. */
export function isRollback(process: StageProcess, from: string, to: string): boolean {
  return process.byId.get(to)!.order < process.byId.get(from)!.order;
}

/**
 * One client's facts merged in the order trackme applied them: changes at their time, logins at
 * their arrival; on equal times changes first. Both toEnvelopes and the oracle's late-login rule
 * use this order.
 */
export type AppliedFact = { kind: 'change'; change: ClientChange; appliedAt: number } | { kind: 'login'; login: LoginFact; appliedAt: number };

export function appliedOrder(client: ClientHistory): AppliedFact[] {
  const facts: AppliedFact[] = [
    ...client.changes.map((change): AppliedFact => ({ kind: 'change', change, appliedAt: change.at })),
    ...client.logins.map((login): AppliedFact => ({ kind: 'login', login, appliedAt: login.arrivedAt })),
  ];
  // Array.prototype.sort is stable: changes keep their order, logins theirs
  return facts.sort((a, b) => a.appliedAt - b.appliedAt || (a.kind === b.kind ? 0 : a.kind === 'change' ? -1 : 1));
}

/**
 * Throws unless the history is one trackme could have produced: times inside the window and
 * strictly increasing per client, only moves to a configured neighbour, no update that changes
 * nothing, known contracts, nothing after a deletion, logins between creation and deletion.
 */
export function assertValidHistory(history: History): void {
  const { process } = history;
  const ids = new Set<string>();
  for (const client of history.clients) {
    const fail = (message: string): never => {
      throw new Error(`client ${client.id}: ${message}`);
    };
    if (ids.has(client.id)) fail('id used twice');
    ids.add(client.id);
    const inWindow = (t: number) => Number.isInteger(t) && t > history.start && t <= history.end;
    if (!inWindow(client.created.at)) fail('created outside the window');
    if (!process.byId.has(client.created.stage)) fail(`created in unknown stage ${client.created.stage}`);
    let stage = client.created.stage;
    let fields: Required<FieldValues> = { ...client.created };
    let last = client.created.at;
    let deletedAt: number | undefined;
    for (const change of client.changes) {
      if (deletedAt !== undefined) fail('a change after the deletion');
      if (!inWindow(change.at) || change.at <= last) fail(`change at ${new Date(change.at).toISOString()} is not after the previous one`);
      last = change.at;
      switch (change.kind) {
        case 'update': {
          const changed = Object.entries(change.fields ?? {}).some(([k, v]) => JSON.stringify(v) !== JSON.stringify(fields[k as keyof FieldValues]));
          if (change.stage !== undefined) {
            if (!process.byId.get(stage)!.transitions.includes(change.stage)) fail(`illegal move ${stage} → ${change.stage}`);
            stage = change.stage;
          } else if (!changed) fail('an update that changes nothing');
          fields = { ...fields, ...change.fields };
          break;
        }
        case 'app':
          fields = { ...fields, app: change.to };
          break;
        case 'autopayment':
          if (!fields.contracts.some((c) => c.id === change.contractId)) fail(`unknown contract ${change.contractId}`);
          fields = { ...fields, contracts: fields.contracts.map((c) => (c.id === change.contractId ? { ...c, autopayment: change.to } : c)) };
          break;
        case 'delete':
          deletedAt = change.at;
          break;
        default: {
          const unknown: never = change;
          fail(`unknown change ${JSON.stringify(unknown)}`);
        }
      }
    }
    let previous = -Infinity;
    for (const login of client.logins) {
      if (login.at < previous) fail('logins out of order');
      previous = login.at;
      if (!inWindow(login.at) || !inWindow(login.arrivedAt) || login.at <= client.created.at) fail('a login outside the client\'s life');
      if (login.arrivedAt < login.at) fail('a login applied before it happened');
      if (deletedAt !== undefined && login.arrivedAt >= deletedAt) fail('a login applied after the deletion');
    }
  }
}
