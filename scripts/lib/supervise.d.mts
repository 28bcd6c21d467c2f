export interface Supervised {
  name: string;
  port: number;
  child: { pid?: number | undefined; on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown };
}
export declare const RESTART_BACKOFF: { initialMs: number; maxMs: number; stableAfterMs: number };
export declare function supervise<E extends Supervised>(
  children: E[],
  options: { isStopping: () => boolean; spawn: (entry: E) => E['child']; say: (line: string) => void; backoff?: typeof RESTART_BACKOFF },
): void;
