import { call } from './api.js';

export interface Stage {
  id: string;
  name: string;
  order: number;
  transitions: string[];
}
export interface Contract {
  id: string;
  name?: string;
  number?: string;
  status?: string;
  conclusion_date?: string;
  expiration_date?: string;
  amount?: number;
  payment_frequency?: string;
  autopayment: { status: 'enabled' | 'disabled'; highlight: boolean };
  [field: string]: unknown;
}
export interface ClientView {
  id: string;
  name: string;
  email: string;
  stage: string;
  is_active: boolean;
  registration_date: string;
  last_updated: string;
  source: string | null;
  channel: string | null;
  app: { status: 'installed' | 'not_installed'; highlight: boolean };
  last_login: { date: string | null; at: string | null; highlight: boolean };
  contracts: Contract[];
  version: number;
}

let stages: Promise<Stage[]> | undefined;
/** The configured process; it changes only with a gateway restart. */
export function loadStages(): Promise<Stage[]> {
  stages ??= call<{ stages: Stage[] }>('GET', 'stages').then(
    (answer) => [...answer.data.stages].sort((a, b) => a.order - b.order),
    (error: unknown) => {
      stages = undefined;
      throw error;
    },
  );
  return stages;
}

export interface Move {
  to: Stage;
  rollback: boolean;
}

/** The moves the process allows from `from`: next, prev and its explicit transitions. */
export function movesFrom(all: Stage[], from: string): Move[] {
  const here = all.find((s) => s.id === from);
  if (!here) return [];
  const targets = new Set<string>(here.transitions);
  const next = all.find((s) => s.order > here.order);
  const prev = [...all].reverse().find((s) => s.order < here.order);
  if (next) targets.add(next.id);
  if (prev) targets.add(prev.id);
  return all.filter((s) => targets.has(s.id) && s.id !== from).map((to) => ({ to, rollback: to.order < here.order }));
}

export const stageName = (all: Stage[] | undefined, id: string): string => all?.find((s) => s.id === id)?.name ?? id;

/** Moves a client's stage only: a field someone changed since the console read the client is kept. */
export function moveClient(client: ClientView, stage: string) {
  return call('PATCH', `clients/${encodeURIComponent(client.id)}/stage`, { body: { stage } });
}
