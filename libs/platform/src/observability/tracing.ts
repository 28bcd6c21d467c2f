import type { Logger } from '../logging/logger.js';

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK (OTLP/HTTP exporter, W3C propagation) only when an endpoint is
 * configured; otherwise the API stays a no-op and costs nothing. The SDK is imported lazily so a
 * service without tracing never loads it.
 */
export async function startTracing(service: string, endpoint: string | undefined, logger: Logger): Promise<Tracing> {
  if (!endpoint) return { shutdown: async () => undefined };
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const sdk = new NodeSDK({
    serviceName: `trackme-${service}`,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
  });
  sdk.start();
  logger.info({ endpoint }, 'tracing enabled (OTLP/HTTP)');
  return { shutdown: () => sdk.shutdown() };
}
