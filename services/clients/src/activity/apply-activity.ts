import { ActivityEventTypes, ActivityTypes, type ActivityEvent, type Client } from '@trackme/contracts';

type Autopayment = Client['contracts'][number]['autopayment'];

/**
 * When the app status and each contract's autopayment were last set by activity: the occurred_at
 * and id of the event that set them. An event that is not newer than the clock is stale.
 */
export interface ActivityClock {
  at: string;
  event_id: string;
}

export interface ActivityClocks {
  app?: ActivityClock;
  autopayment?: Record<string, ActivityClock>;
}

/** A change that one applied activity event made; it becomes one change event. */
export type ActivityChange =
  | { type: typeof ActivityEventTypes.loggedIn; event: ActivityEvent; client: Client; lastLogin: string }
  | { type: typeof ActivityEventTypes.appStatusChanged; event: ActivityEvent; client: Client; from: string; to: string }
  | {
      type: typeof ActivityEventTypes.autopaymentChanged;
      event: ActivityEvent;
      client: Client;
      contractId: string;
      from: string;
      to: string;
    };

export type ActivityOutcome =
  | { kind: 'applied'; client: Client; clocks: ActivityClocks; change: ActivityChange }
  /** an older event than the one that already set the field: nothing changes */
  | { kind: 'stale' }
  | { kind: 'unknown_contract' };

/** Total order of events on one field: occurred_at, then event id (so replays decide alike). */
function compare(event: ActivityEvent, clock: ActivityClock | undefined): number {
  if (!clock) return 1;
  const at = Date.parse(event.occurred_at) - Date.parse(clock.at);
  if (at !== 0) return at;
  return event.event_id < clock.event_id ? -1 : event.event_id > clock.event_id ? 1 : 0;
}

const clockOf = (event: ActivityEvent): ActivityClock => ({ at: new Date(event.occurred_at).toISOString(), event_id: event.event_id });

/**
 * Applies one activity event to a client (pure):
 * - `login` moves last_login to the latest occurred_at seen; a late login leaves it and still
 *   counts as activity (its change event says when it happened);
 * - app and autopayment events set their field unless a newer event already did (last writer by
 *   occurred_at wins, whatever the arrival order).
 * The event that set a field is recognised again (same clock): a redelivery after a crash emits
 * its change again without changing anything, so no change is lost between write and publish.
 */
export function applyActivity(client: Client, clocks: ActivityClocks, event: ActivityEvent): ActivityOutcome {
  const next = (fields: Partial<Client>): Client => ({ ...client, ...fields, version: client.version + 1 });
  switch (event.type) {
    case ActivityTypes.login: {
      const at = new Date(event.occurred_at).toISOString();
      const lastLogin = client.last_login && Date.parse(client.last_login) >= Date.parse(at) ? client.last_login : at;
      const changed = next({ last_login: lastLogin });
      return { kind: 'applied', client: changed, clocks, change: { type: ActivityEventTypes.loggedIn, event, client: changed, lastLogin } };
    }
    case ActivityTypes.appInstalled:
    case ActivityTypes.appUninstalled: {
      if (compare(event, clocks.app) < 0) return { kind: 'stale' };
      const to: Client['app'] = event.type === ActivityTypes.appInstalled ? 'installed' : 'not_installed';
      const changed = next({ app: to });
      return {
        kind: 'applied',
        client: changed,
        clocks: { ...clocks, app: clockOf(event) },
        change: { type: ActivityEventTypes.appStatusChanged, event, client: changed, from: client.app, to },
      };
    }
    case ActivityTypes.autopaymentEnabled:
    case ActivityTypes.autopaymentDisabled: {
      const contractId = event.contract_id!;
      const index = client.contracts.findIndex((c) => c.id === contractId);
      if (index < 0) return { kind: 'unknown_contract' };
      if (compare(event, clocks.autopayment?.[contractId]) < 0) return { kind: 'stale' };
      const to: Autopayment = event.type === ActivityTypes.autopaymentEnabled ? 'enabled' : 'disabled';
      const from = client.contracts[index]!.autopayment;
      const contracts = client.contracts.map((c, i) => (i === index ? { ...c, autopayment: to } : c));
      const changed = next({ contracts });
      return {
        kind: 'applied',
        client: changed,
        clocks: { ...clocks, autopayment: { ...clocks.autopayment, [contractId]: clockOf(event) } },
        change: { type: ActivityEventTypes.autopaymentChanged, event, client: changed, contractId, from, to },
      };
    }
    default: {
      const unknown: never = event.type;
      throw new Error(`unhandled activity type ${String(unknown)}`);
    }
  }
}
