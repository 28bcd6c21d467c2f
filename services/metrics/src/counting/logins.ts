import { METRIC_INTERVALS } from '@trackme/contracts';
import { periodDays } from '../periods.js';
import { counterKey, Fields, periodKeys, type Effects } from './counter-fields.js';
import type { ClientState, ReduceContext } from './reduce.js';

/** How many days of logins a client's state keeps (decides whether a login is new in its month). */
export const LOGIN_DAYS_KEPT = 70;

/** Counts a login outside of an event (a rebuild replaying the login days a state remembered). */
export function countLoginAt(state: ClientState, at: number, context: ReduceContext, effects: Effects): void {
  countLogin(state, at, context, effects);
}

/** A login counts once per client and day, week and month; the live HyperLogLogs get it too. */
export function countLogin(state: ClientState, at: number, { calendar }: ReduceContext, effects: Effects): void {
  const day = calendar.dayNumber(at);
  const keys = periodKeys(day);
  const latest = state.days.length > 0 ? state.days[state.days.length - 1]! : day;
  const earliestNeeded = Math.min(periodDays('week', day).first, periodDays('month', day).first);
  if (earliestNeeded < latest - LOGIN_DAYS_KEPT) {
    effects.count('too_late');
    return;
  }
  for (const interval of METRIC_INTERVALS) effects.addHll(`${interval}:${keys[interval]}`, state._id);
  if (state.days.includes(day)) return;
  for (const interval of ['week', 'month'] as const) {
    const { first, next } = periodDays(interval, day);
    const doc = counterKey(interval, keys[interval]);
    if (!state.days.some((d) => d >= first && d < next)) effects.add(doc, Fields.active, 1);
    effects.add(doc, Fields.activeDays, 1);
  }
  effects.add(counterKey('day', keys.day), Fields.active, 1);
  const days = [...state.days, day].sort((a, b) => a - b);
  const newest = days[days.length - 1]!;
  state.days = days.filter((d) => d >= newest - LOGIN_DAYS_KEPT);
}
