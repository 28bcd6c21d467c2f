import type { Client, ClientView } from '@trackme/contracts';

const DAY_MS = 86_400_000;

export interface HighlightPolicy {
  /** a last login older than this many days is highlighted */
  lastLoginDays: number;
}

export interface RenderedClient {
  view: ClientView;
  /**
   * Until this instant (ms) every highlight of the view stays what it is: highlights only change
   * when a last login crosses the threshold. Infinity when nothing time-dependent can flip.
   */
  validUntil: number;
}

/** The instant before which a login is "too old": age > days ⇔ last_login < now − days. */
export function lastLoginCutoff(now: number, policy: HighlightPolicy): Date {
  return new Date(now - policy.lastLoginDays * DAY_MS);
}

/** When a login at `lastLogin` (ms) starts being highlighted. */
export function lastLoginFlipsAt(lastLogin: number, policy: HighlightPolicy): number {
  return lastLogin + policy.lastLoginDays * DAY_MS;
}

/**
 * A client in the older service's response shape, highlights computed for `now`:
 * app not installed, no login within the policy's days (or never), autopayment disabled.
 */
export function renderClient(client: Client, now: number, policy: HighlightPolicy): RenderedClient {
  let validUntil = Number.POSITIVE_INFINITY;
  let lastLoginHighlight = true;
  if (client.last_login !== null) {
    const flipsAt = lastLoginFlipsAt(Date.parse(client.last_login), policy);
    lastLoginHighlight = now > flipsAt;
    if (!lastLoginHighlight) validUntil = flipsAt;
  }
  const view: ClientView = {
    id: client.id,
    name: client.name,
    email: client.email,
    stage: client.stage,
    is_active: client.is_active,
    registration_date: client.registration_date,
    last_updated: client.last_updated,
    source: client.source,
    channel: client.channel,
    app: { status: client.app, highlight: client.app === 'not_installed' },
    last_login: {
      date: client.last_login === null ? null : client.last_login.slice(0, 10),
      at: client.last_login,
      highlight: lastLoginHighlight,
    },
    contracts: client.contracts.map((contract) => ({
      ...contract,
      autopayment: { status: contract.autopayment, highlight: contract.autopayment === 'disabled' },
    })),
    version: client.version,
  };
  return { view, validUntil };
}

/** Whether a view carries at least one highlight (the `highlighted` filter's meaning). */
export function isHighlighted(view: ClientView): boolean {
  return view.app.highlight || view.last_login.highlight || view.contracts.some((c) => c.autopayment.highlight);
}
