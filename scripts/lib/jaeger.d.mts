import type { ChildProcess, StdioOptions } from 'node:child_process';

export const JAEGER_VERSION: string;
export const JAEGER_BINARY: string;
export const JAEGER_CONFIG: string;

/** The path of the Jaeger binary, building it into ~/.cache/trackme first when missing. */
export function jaegerBinary(log?: (message: string) => void): Promise<string>;

export interface RunningJaeger {
  /** the query API's root, e.g. http://127.0.0.1:16686 (GET /api/traces/{traceId}) */
  queryUrl: string;
  /** what OTEL_EXPORTER_OTLP_ENDPOINT should say */
  otlpEndpoint: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts Jaeger (OTLP/HTTP in, memory storage, query API) on loopback and waits until it answers. */
export function startJaeger(options?: {
  otlpPort?: number;
  queryPort?: number;
  queryGrpcPort?: number;
  stdio?: StdioOptions;
  log?: (message: string) => void;
}): Promise<RunningJaeger>;
