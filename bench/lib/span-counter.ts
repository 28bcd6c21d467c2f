import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpanCounter {
  /** what OTEL_EXPORTER_OTLP_ENDPOINT should say */
  endpoint: string;
  /** spans received so far */
  count(): number;
  close(): Promise<void>;
}

const KIND = Buffer.from('"kind":');

/**
 * An OTLP/HTTP trace receiver that only counts what it is sent, for the tracing bench: it shares
 * the measured processes' cores, so it must cost next to nothing. A span of OTLP's JSON encoding has
 * exactly one `"kind":` (resources, scopes, events, links and statuses have none), so counting
 * that key counts spans without parsing the request. Tests that check spans use the testkit's
 * decoding receiver.
 */
export async function startSpanCounter(): Promise<SpanCounter> {
  let spans = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk: Buffer) => {
      // a key split across two chunks is missed: the count is a figure, not a check
      for (let at = chunk.indexOf(KIND); at >= 0; at = chunk.indexOf(KIND, at + KIND.length)) spans += 1;
    });
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
