export declare const quantile: (sorted: number[], q: number) => number;
export declare function summarize(
  times: number[],
  seconds: number,
): { requests: number; rps: number; mean: number; p50: number; p90: number; p99: number; max: number };
