import { describe, expect, it } from 'vitest';
import { ValidationError } from '@trackme/platform';
import { BULK_MAX_CLIENTS } from '@trackme/contracts';
import { clientsMatching } from '../../src/jobs/client-set.js';
import type { ServiceAnswer } from '../../src/http/service-client.js';
import type { ReadClient } from '../../src/read/read-client.js';

/** A read service that answers every id query with `ids`, and remembers what it was asked. */
function readAnswering(ids: string[]) {
  const asked: Array<{ path: string; timeoutMs: number | undefined }> = [];
  const read = {
    get: async (path: string, _headers?: Record<string, string>, timeoutMs?: number): Promise<ServiceAnswer> => {
      asked.push({ path, timeoutMs });
      return { status: 200, contentType: 'application/json', headers: {}, body: Buffer.from(JSON.stringify({ data: ids })) };
    },
  } as unknown as ReadClient;
  return { read, asked };
}

describe("a bulk job's set of clients", () => {
  it('is read in one request carrying the filter, allowed longer than an interactive read', async () => {
    const { read, asked } = readAnswering(['a', 'b']);
    expect(await clientsMatching(read, { is_active: true, stage: 'lead', source: 'fair 2026' })).toEqual(['a', 'b']);
    expect(asked).toHaveLength(1);
    const url = new URL(asked[0]!.path, 'http://read');
    expect(url.pathname).toBe('/internal/client-ids');
    expect(Object.fromEntries(url.searchParams)).toEqual({ is_active: 'true', stage: 'lead', source: 'fair 2026', max: String(BULK_MAX_CLIENTS + 1) });
    expect(asked[0]!.timeoutMs).toBeGreaterThan(5_000);
  });

  it(`refuses a filter matching more than ${BULK_MAX_CLIENTS} clients, naming the filter`, async () => {
    const { read } = readAnswering(Array.from({ length: BULK_MAX_CLIENTS + 1 }, (_, i) => `c${i}`));
    const refused = await clientsMatching(read, { is_active: true }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).message).toContain(`more than ${BULK_MAX_CLIENTS}`);
    expect((refused as ValidationError).errors).toEqual([{ field: 'filter', message: `matches more than ${BULK_MAX_CLIENTS} clients` }]);
  });

  it('takes exactly the limit', async () => {
    const { read } = readAnswering(Array.from({ length: BULK_MAX_CLIENTS }, (_, i) => `c${i}`));
    expect(await clientsMatching(read, { is_active: true })).toHaveLength(BULK_MAX_CLIENTS);
  });
});
