import { validateActivity, type ActivityEvent, type FieldError } from '@trackme/contracts';

export interface ActivityResult {
  index: number;
  event_id?: string;
  status: 'accepted' | 'rejected';
  errors?: FieldError[];
}

export interface CheckedBatch {
  /** one result per item, in the order sent */
  results: ActivityResult[];
  /** the accepted events, in the order sent */
  accepted: ActivityEvent[];
}

/** The item's own event_id, if it has one that is a string, so a caller can match a result to its event. */
function eventIdOf(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const id = (item as { event_id?: unknown }).event_id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Checks every item of a batch on its own: one bad event never refuses its neighbours. Repeated
 * event ids are all accepted; the consumer applies each id once.
 */
export function checkActivityBatch(items: readonly unknown[], now: Date): CheckedBatch {
  const results: ActivityResult[] = [];
  const accepted: ActivityEvent[] = [];
  items.forEach((item, index) => {
    const eventId = eventIdOf(item);
    const checked = validateActivity(item, now);
    const id = eventId === undefined ? {} : { event_id: eventId };
    if (checked.ok) {
      accepted.push(checked.event);
      results.push({ index, ...id, status: 'accepted' });
    } else {
      results.push({ index, ...id, status: 'rejected', errors: checked.errors });
    }
  });
  return { results, accepted };
}
