import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { supervise } from '../scripts/lib/supervise.mjs';

interface FakeChild extends EventEmitter {
  pid: number;
}

function fakeChild(pid: number): FakeChild {
  return Object.assign(new EventEmitter(), { pid });
}

const backoff = { initialMs: 5, maxMs: 20, stableAfterMs: 60_000 };
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('npm start supervising its services', () => {
  it('restarts a service that exits on its own, saying so, with a backoff that doubles up to its cap', async () => {
    const lines: string[] = [];
    let pid = 100;
    const entry = { name: 'clients', port: 8081, child: fakeChild(pid) };
    const others = { name: 'read', port: 8082, child: fakeChild(1) };
    supervise([entry, others], { isStopping: () => false, spawn: () => fakeChild(++pid), say: (line: string) => lines.push(line), backoff });

    for (let crash = 0; crash < 4; crash += 1) {
      entry.child.emit('exit', 1, null);
      await tick(50);
    }
    expect(entry.child.pid).toBe(104);
    expect(lines.filter((line) => line.includes('restarting in'))).toEqual([
      'clients exited unexpectedly (1); restarting in 0.005 s',
      'clients exited unexpectedly (1); restarting in 0.01 s',
      'clients exited unexpectedly (1); restarting in 0.02 s',
      'clients exited unexpectedly (1); restarting in 0.02 s',
    ]);
    expect(lines).toContain('clients restarted (pid 101)');
    expect(others.child.pid).toBe(1);
  });

  it('does not restart a service that exits while the system is stopping', async () => {
    const lines: string[] = [];
    const entry = { name: 'gateway', port: 8080, child: fakeChild(7) };
    let spawned = 0;
    supervise([entry], { isStopping: () => true, spawn: () => fakeChild(++spawned), say: (line: string) => lines.push(line), backoff });
    entry.child.emit('exit', null, 'SIGTERM');
    await tick(30);
    expect(spawned).toBe(0);
    expect(lines).toEqual([]);
  });
});
