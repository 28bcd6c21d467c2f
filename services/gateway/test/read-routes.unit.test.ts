import { describe, expect, it } from 'vitest';
import { forwardedQuery } from '../src/clients/read-routes.js';

describe('forwardedQuery', () => {
  it('passes every given filter in one fixed order, defaults included, so equal queries share a cache entry', () => {
    const a = forwardedQuery({ stage: 'registration', is_active: true, limit: 50, offset: 0, source: 'web' });
    const b = forwardedQuery({ offset: 0, source: 'web', limit: 50, is_active: true, stage: 'registration' });
    expect(a).toBe('stage=registration&source=web&is_active=true&limit=50&offset=0');
    expect(b).toBe(a);
  });

  it('encodes values, so an email with & or + stays one value', () => {
    expect(new URLSearchParams(forwardedQuery({ email: 'a&b+c@example.com', is_active: false, limit: 1, offset: 2 })).get('email')).toBe(
      'a&b+c@example.com',
    );
  });
});
