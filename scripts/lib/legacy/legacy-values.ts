/** How the older service's stored values read: ids, dates in their several forms, optional text. */

/** A document id as text: strings as they are, ObjectIds as their hex. */
export function legacyId(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (value && typeof value === 'object' && typeof (value as { toHexString?: unknown }).toHexString === 'function') {
    return (value as { toHexString: () => string }).toHexString();
  }
  return undefined;
}

/** Text with something in it, trimmed; blank and absent are both "not given". */
export function textOrUndefined(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' ? undefined : text;
}

const DOTTED = /^(\d{2})\.(\d{2})\.(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Years a trackme instant may have (see InstantSchema): four digits in UTC whatever the offset. */
const inRange = (date: Date) => date.getUTCFullYear() >= 1001 && date.getUTCFullYear() <= 8998;

function utcInstant(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date | null {
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 31.02 over into March; a date that does not round-trip is not a date
  const same = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return same && hour < 24 && minute < 60 && second < 60 ? date : null;
}

/**
 * An older date as an RFC 3339 instant in UTC, or null when it is not one. Takes BSON dates, epoch
 * milliseconds, RFC 3339 (a space for the `T`, and a date alone, are read as UTC), and the
 * `DD.MM.YYYY [HH:MM[:SS]]` form some of its answers and imports used (read as UTC).
 */
export function legacyDate(value: unknown): string | null {
  let date: Date | null = null;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value);
  else if (typeof value === 'string') {
    const text = value.trim();
    const dotted = DOTTED.exec(text);
    const iso = ISO.exec(text);
    if (dotted) {
      const [, day, month, year, hour, minute, second] = dotted;
      date = utcInstant(Number(year), Number(month), Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0));
    } else if (iso) {
      const [, year, month, day, hour, minute, second, fraction, zone] = iso;
      const local = utcInstant(Number(year), Number(month), Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0));
      if (local) {
        const offset = !zone || zone.toUpperCase() === 'Z' ? 0 : offsetMinutes(zone);
        date = offset === null ? null : new Date(local.getTime() + Math.round(Number(fraction ?? 0) * 1000) - offset * 60_000);
      }
    }
  }
  return date && !Number.isNaN(date.getTime()) && inRange(date) ? date.toISOString() : null;
}

function offsetMinutes(zone: string): number | null {
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) ?? [];
  if (!sign || Number(hours) > 23 || Number(minutes) > 59) return null;
  return (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
}
