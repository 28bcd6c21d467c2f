// Latency figures of one load, shared by the load generators (plain Node processes) and the
// scenarios that time requests themselves.

/** The q-quantile of ascending samples (nearest rank, lower); NaN when there are none. */
export const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN);

/** Answers, answers/s over `seconds`, and mean, p50, p90, p99 and max of `times` in whole ms (0 when none). */
export function summarize(times, seconds) {
  const sorted = [...times].sort((a, b) => a - b);
  const whole = (ms) => (Number.isNaN(ms) ? 0 : Math.round(ms));
  return {
    requests: times.length,
    rps: times.length / seconds,
    mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    p50: whole(quantile(sorted, 0.5)),
    p90: whole(quantile(sorted, 0.9)),
    p99: whole(quantile(sorted, 0.99)),
    max: whole(sorted.at(-1) ?? Number.NaN),
  };
}
