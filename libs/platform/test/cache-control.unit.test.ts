import { describe, expect, it } from 'vitest';
import { wantsBypass } from '../src/index.js';

describe('wantsBypass', () => {
  it.each([
    ['no-cache', true],
    ['No-Cache', true],
    ['max-age=0, no-cache', true],
    ['no-store', true],
    [['private', 'no-cache'], true],
    [undefined, false],
    ['', false],
    ['max-age=60', false],
    ['no-transform', false],
    ['x-no-cache-please', false],
  ])('Cache-Control %j bypasses the cache: %s', (header, expected) => {
    expect(wantsBypass(header)).toBe(expected);
  });
});
