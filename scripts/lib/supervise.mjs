// Keeps `npm start`'s services running: one that exits on its own is started again after a
// backoff that doubles while it keeps failing soon after starting (1 s up to 30 s), and is reset
// once it stayed up for a while. The rest of the system keeps running meanwhile.

export const RESTART_BACKOFF = { initialMs: 1_000, maxMs: 30_000, stableAfterMs: 60_000 };

/**
 * Watches each `{ name, port, child }` of `children` (the entries are updated in place with the new
 * child), restarting it with `spawn({ name, port })` unless `isStopping()` says the system is stopping.
 */
export function supervise(children, { isStopping, spawn, say, backoff = RESTART_BACKOFF }) {
  for (const entry of children) {
    let delay = backoff.initialMs;
    const watch = (child, startedAt) => {
      child.on('exit', (code, signal) => {
        if (isStopping()) return;
        if (Date.now() - startedAt >= backoff.stableAfterMs) delay = backoff.initialMs;
        say(`${entry.name} exited unexpectedly (${code ?? signal}); restarting in ${delay / 1000} s`);
        const wait = delay;
        delay = Math.min(delay * 2, backoff.maxMs);
        setTimeout(() => {
          if (isStopping()) return;
          entry.child = spawn(entry);
          say(`${entry.name} restarted (pid ${entry.child.pid})`);
          watch(entry.child, Date.now());
        }, wait);
      });
    };
    watch(entry.child, Date.now());
  }
}
