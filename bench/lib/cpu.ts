import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, type ServiceProcess } from '@trackme/testkit';

/** CPU time a process has used so far, in seconds (utime + stime of /proc/<pid>/stat, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy and total ticks of the whole machine (/proc/stat; idle and iowait are not busy). */
function machineTicks(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

export interface CpuUse {
  /** per process, in % of one core */
  processes: { name: string; percent: number }[];
  /** the whole machine (everything on it, the stack and the load generator included), in % of one core */
  machine: number;
  cores: number;
}

/** The process listening on a local TCP port (`ss` names it to root), if any. */
function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

const portOf = (address: string | undefined, fallback: number) => Number(/:(\d+)(?:[/?,]|$)/.exec(address ?? '')?.[1] ?? fallback);

/**
 * The stack's servers the bench talks to, for CPU figures: the processes listening on the ports of
 * KAFKA_BROKERS, MONGO_URL and REDIS_URL, or else the dev stack's pid files.
 */
export function stackProcesses(env: Record<string, string | undefined> = {}): { name: string; pid: number }[] {
  const byPort = [
    ['kafka', portOf(env['KAFKA_BROKERS'], 9092)],
    ['mongo', portOf(env['MONGO_URL'], 27017)],
    ['redis', portOf(env['REDIS_URL'], 6379)],
  ] as const;
  const found = byPort.flatMap(([name, port]) => {
    const pid = listenerPid(port);
    return pid ? [{ name, pid }] : [];
  });
  if (found.length === byPort.length) return found;
  return ['kafka', 'mongo', 'redis'].flatMap((name) => {
    try {
      const pid = Number(readFileSync(path.join(REPO_ROOT, '.local/stack/dev', `${name}.pid`), 'utf8').trim());
      return existsSync(`/proc/${pid}/stat`) ? [{ name, pid }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Starts measuring the CPU use of some services, of the dev stack's servers and of the whole
 * machine; the function returned ends it.
 */
export function cpuMeter(services: ServiceProcess[], env: Record<string, string | undefined> = {}): () => CpuUse {
  const processes = [...services.map((p) => ({ name: p.name as string, pid: p.child.pid! })), ...stackProcesses(env)];
  const t0 = performance.now();
  const before = processes.map((p) => cpuSeconds(p.pid));
  const machine0 = machineTicks();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const machine1 = machineTicks();
    const cores = availableParallelism();
    return {
      processes: processes.map((p, i) => ({ name: p.name, percent: ((cpuSeconds(p.pid) - before[i]!) / seconds) * 100 })),
      machine: ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * cores * 100,
      cores,
    };
  };
}

/** `gateway 61%, read 40% + 38%, kafka 20%, …; rest 35%; machine 197% of 200%`: CPU use for a table cell. */
export function cpuCell(use: CpuUse): string {
  const names = [...new Set(use.processes.map((p) => p.name))];
  const perName = names.map((name) => `${name} ${use.processes.filter((p) => p.name === name).map((p) => `${Math.round(p.percent)}%`).join(' + ')}`);
  const rest = use.machine - use.processes.reduce((a, p) => a + p.percent, 0);
  return `${perName.join(', ')}; rest ${Math.max(0, Math.round(rest))}%; machine ${Math.round(use.machine)}% of ${use.cores * 100}%`;
}
