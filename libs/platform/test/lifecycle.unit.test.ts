import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, Lifecycle, retryUntilReady, startTracing } from '../src/index.js';

const logger = createLogger('lifecycle-test', 'silent');

describe('Lifecycle', () => {
  it('closes resources in reverse order of registration, once, even if one fails', async () => {
    const lifecycle = new Lifecycle(logger, 1_000);
    const closed: string[] = [];
    lifecycle.onStop('mongo', () => void closed.push('mongo'));
    lifecycle.onStop('producer', () => {
      closed.push('producer');
      throw new Error('broker gone');
    });
    lifecycle.onStop('consumer', async () => void closed.push('consumer'));

    const first = lifecycle.stop('test');
    const second = lifecycle.stop('again');
    await expect(first).rejects.toThrow('some resources failed to close');
    await expect(second).rejects.toThrow();
    expect(closed).toEqual(['consumer', 'producer', 'mongo']);
    expect(lifecycle.signal.aborted).toBe(true);
  });

  it('exits 0 after a clean stop on SIGTERM', async () => {
    const lifecycle = new Lifecycle(logger, 1_000);
    const closed = vi.fn();
    lifecycle.onStop('resource', closed);
    const exit = vi.fn();
    const before = process.listeners('SIGTERM');
    lifecycle.installSignalHandlers(exit);
    const handler = process.listeners('SIGTERM').find((l) => !before.includes(l))!;
    try {
      handler('SIGTERM');
      await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
      expect(closed).toHaveBeenCalledOnce();
      handler('SIGTERM');
      expect(exit).toHaveBeenLastCalledWith(1);
    } finally {
      process.removeListener('SIGTERM', handler);
      for (const l of process.listeners('SIGINT').filter((l) => !before.includes(l as never))) process.removeListener('SIGINT', l);
    }
  });
});

describe('retryUntilReady', () => {
  it('retries a failing start until it succeeds', async () => {
    let calls = 0;
    const ok = await retryUntilReady(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
      },
      { name: 'dep', logger, signal: new AbortController().signal, initialDelayMs: 1 },
    );
    expect(ok).toBe(true);
    expect(calls).toBe(3);
  });

  it('gives up when shutdown begins', async () => {
    const abort = new AbortController();
    const result = retryUntilReady(
      async () => {
        abort.abort();
        throw new Error('down');
      },
      { name: 'dep', logger, signal: abort.signal, initialDelayMs: 1 },
    );
    expect(await result).toBe(false);
  });
});

describe('startTracing', () => {
  const recording = () => {
    const span = trace.getTracer('test').startSpan('probe');
    const recorded = span.isRecording();
    span.end();
    return recorded;
  };

  it('is a no-op without an endpoint: spans are not recorded', async () => {
    const tracing = startTracing('svc', {});
    expect(recording()).toBe(false);
    await expect(tracing.shutdown()).resolves.toBeUndefined();
  });

  it('records spans while the SDK runs with an endpoint, and exports them to it on shutdown', async () => {
    // a stand-in OTLP/HTTP collector on loopback: what arrives at /v1/traces
    const received: string[] = [];
    const collector = createServer((request, response) => {
      received.push(`${request.method} ${request.url}`);
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      const tracing = startTracing('svc', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
      expect(recording()).toBe(true);
      await expect(tracing.shutdown()).resolves.toBeUndefined();
      expect(received).toContain('POST /v1/traces');
    } finally {
      collector.close();
    }
  });
});
