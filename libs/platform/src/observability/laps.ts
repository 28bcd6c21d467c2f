/**
 * Times the steps of one run for its log line: `lap(step)` records the whole milliseconds since
 * the previous lap (or since the start) under the step's name.
 */
export function laps(): { lap: (step: string) => void; timings: Record<string, number> } {
  const timings: Record<string, number> = {};
  let mark = performance.now();
  return {
    timings,
    lap(step) {
      const at = performance.now();
      timings[step] = Math.round(at - mark);
      mark = at;
    },
  };
}
