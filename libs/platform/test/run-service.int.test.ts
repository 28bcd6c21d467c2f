import { describe, expect, it, vi } from 'vitest';
import { Type } from 'typebox';
import { createHttpServer, HttpConfig, LogConfig, runService, TelemetryConfig } from '../src/index.js';

const Schema = Type.Object({ ...LogConfig, ...HttpConfig(0), ...TelemetryConfig, NAME: Type.String({ minLength: 1 }) });

describe('runService', () => {
  it('exits 1 and lists the problems when the configuration is invalid', async () => {
    const exit = vi.fn();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const running = await runService('demo', Schema, async () => {
        throw new Error('must not compose');
      }, { env: { PORT: 'x' }, exit, installSignalHandlers: false });
      expect(running).toBeUndefined();
      expect(exit).toHaveBeenCalledWith(1);
      const printed = write.mock.calls.map(([chunk]) => String(chunk)).join('');
      expect(printed).toContain('NAME: is required but not set');
      expect(printed).toContain('PORT: must be integer');
    } finally {
      write.mockRestore();
    }
  });

  it('exits 1 when composition fails, after closing what was created', async () => {
    const exit = vi.fn();
    const closed = vi.fn();
    const running = await runService(
      'demo',
      Schema,
      async ({ lifecycle }) => {
        lifecycle.onStop('resource', closed);
        throw new Error('cannot build');
      },
      { env: { NAME: 'x', LOG_LEVEL: 'silent' }, exit, installSignalHandlers: false },
    );
    expect(running).toBeUndefined();
    expect(closed).toHaveBeenCalledOnce();
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('listens, serves, and closes the HTTP server on stop', async () => {
    const running = await runService(
      'demo',
      Schema,
      async ({ logger, registry }) => createHttpServer({ logger, registry, readiness: { always: () => true } }),
      { env: { NAME: 'x', LOG_LEVEL: 'silent' }, exit: vi.fn(), installSignalHandlers: false },
    );
    const address = running!.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    await running!.context.lifecycle.stop('test');
    await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
  });
});
