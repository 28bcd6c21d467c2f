import { describe, expect, it } from 'vitest';
import { Calendar, dayOfDate } from '../src/periods.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('Calendar', () => {
  it('names days, ISO weeks and months by the local date they start on (UTC)', () => {
    const utc = new Calendar('UTC');
    const at = Date.parse('2026-11-26T23:59:59.999Z'); // a Thursday
    expect(utc.periodOf('day', at)).toMatchObject({ key: '2026-11-26' });
    expect(utc.periodOf('week', at)).toMatchObject({ key: '2026-11-23' });
    const month = utc.periodOf('month', at);
    expect(month.key).toBe('2026-11-01');
    expect(iso(month.end)).toBe('2026-12-01T00:00:00.000Z');
    expect(utc.periodOf('day', Date.parse('2026-11-27T00:00:00.000Z')).key).toBe('2026-11-27');
  });

  it('keeps the ISO week across a year end', () => {
    const utc = new Calendar('UTC');
    // 2027-01-01 is a Friday: its week started on Monday 2026-12-28
    expect(utc.periodOfDate('week', '2027-01-01')?.key).toBe('2026-12-28');
    expect(utc.periodOfDate('week', '2026-12-28')?.key).toBe('2026-12-28');
  });

  it('starts local days at local midnight, with 23- and 25-hour days at DST changes', () => {
    const berlin = new Calendar('Europe/Berlin');
    const spring = berlin.periodOfDate('day', '2026-03-29')!;
    expect(iso(spring.start)).toBe('2026-03-28T23:00:00.000Z');
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
    const autumn = berlin.periodOfDate('day', '2026-10-25')!;
    expect(iso(autumn.start)).toBe('2026-10-24T22:00:00.000Z');
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000);
    // 23:30 UTC on the 25th is already the 26th in Berlin
    expect(berlin.periodOf('day', Date.parse('2026-10-25T23:30:00.000Z')).key).toBe('2026-10-26');
  });

  it('finds the previous period and lists the periods of a range', () => {
    const tokyo = new Calendar('Asia/Tokyo');
    const march = tokyo.periodOfDate('month', '2026-03-15')!;
    expect(tokyo.previous(march).key).toBe('2026-02-01');
    expect(iso(march.start)).toBe('2026-02-28T15:00:00.000Z');
    expect(tokyo.periodsBetween('week', dayOfDate('2026-11-04')!, dayOfDate('2026-11-20')!).map((p) => p.key)).toEqual([
      '2026-11-02',
      '2026-11-09',
      '2026-11-16',
    ]);
  });

  it('refuses dates that are not in the calendar', () => {
    expect(dayOfDate('2026-02-30')).toBeUndefined();
    expect(dayOfDate('2026-2-3')).toBeUndefined();
    expect(new Calendar('UTC').periodOfDate('day', 'yesterday')).toBeUndefined();
  });

  it('starts a day whose midnight a zone skips at its first instant', () => {
    // Chile, Cuba, Lebanon and Egypt move their clocks from 00:00 to 01:00 on these days
    const starts = [
      ['America/Santiago', '2026-09-06', '2026-09-06T04:00:00.000Z'],
      ['America/Havana', '2026-03-08', '2026-03-08T05:00:00.000Z'],
      ['Asia/Beirut', '2026-03-29', '2026-03-28T22:00:00.000Z'],
      ['Africa/Cairo', '2026-04-24', '2026-04-23T22:00:00.000Z'],
    ];
    for (const [zone, date, start] of starts) {
      const calendar = new Calendar(zone!);
      const day = calendar.periodOfDate('day', date!)!;
      expect({ zone, start: iso(day.start) }).toEqual({ zone, start });
      expect(day.end - day.start).toBe(23 * 3_600_000);
      expect(calendar.previous(day).end).toBe(day.start);
      expect(calendar.periodOf('day', day.start - 1).key).not.toBe(date);
    }
  });

  it('lists a range that ends on the first day of a period, or holds one day', () => {
    const utc = new Calendar('UTC');
    expect(utc.periodsBetween('week', dayOfDate('2026-11-04')!, dayOfDate('2026-11-16')!).map((p) => p.key)).toEqual(['2026-11-02', '2026-11-09', '2026-11-16']);
    expect(utc.periodsBetween('day', dayOfDate('2026-11-04')!, dayOfDate('2026-11-04')!).map((p) => p.key)).toEqual(['2026-11-04']);
    expect(utc.periodsBetween('month', dayOfDate('2026-11-30')!, dayOfDate('2026-12-01')!).map((p) => p.key)).toEqual(['2026-11-01', '2026-12-01']);
  });
});
