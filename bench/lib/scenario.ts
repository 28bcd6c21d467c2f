/** One benchmark scenario of `npm run bench`: what it measures, against which baseline in the same run. */
export interface Scenario {
  name: string;
  /** one line for the summary and `--help` */
  title: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}

export interface BenchContext {
  /** the bench namespace on the dev stack (bench/lib/system.ts) */
  env: Record<string, string>;
  /** `Authorization` of an admin */
  authorization: string;
  /** shorter rounds, for trying a scenario out; figures are noisier */
  quick: boolean;
}

/** A goal of the issue that names a figure, with the value measured. */
export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

export interface ScenarioResult {
  /** everything measured, for the JSON file */
  figures: object;
  /** Markdown: the scenario's table and what limited it */
  markdown: string;
  goals: Goal[];
}

export const fmt = {
  rps: (n: number) => (n < 10 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')),
  ms: (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')} ms`,
  ratio: (n: number) => `${n.toFixed(2)}×`,
};
