import { createRequire } from 'node:module';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as HttpInst from '@opentelemetry/instrumentation-http';
import type * as MongoInst from '@opentelemetry/instrumentation-mongodb';
import type * as RedisInst from '@opentelemetry/instrumentation-ioredis';
import type * as UndiciInst from '@opentelemetry/instrumentation-undici';
import type * as SdkTrace from '@opentelemetry/sdk-trace';

export interface Tracing {
  /** the OTLP/HTTP endpoint spans go to; undefined when tracing is off */
  endpoint: string | undefined;
  shutdown(): Promise<void>;
}

/** The OTEL_TRACES_SAMPLER values of the OpenTelemetry specification. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

const OFF: Tracing = { endpoint: undefined, shutdown: async () => undefined };
let started: Tracing | undefined;

/**
 * Starts the OpenTelemetry SDK (OTLP/HTTP exporter, W3C propagation, outgoing HTTP/undici/MongoDB/
 * ioredis instrumentation; the server spans are the platform's HTTP server's own, see server-spans.ts)
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the API stays a no-op and the
 * SDK is never loaded. The instrumentations patch modules as they are first required, so each
 * service's entry point calls this before it loads anything else (see services/<name>/src/tracing.ts);
 * the SDK is loaded synchronously for that reason. Calling it again returns the running SDK.
 * Values config validation would refuse leave tracing off here; the service then stops at start-up.
 */
export function startTracing(service: string, env: Record<string, string | undefined> = process.env): Tracing {
  if (started) return started;
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const sampling = samplingOf(env);
  if (!endpoint || !/^https?:\/\//.test(endpoint) || !sampling) return OFF;
  const require = createRequire(import.meta.url);
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInst;
  const { MongoDBInstrumentation } = require('@opentelemetry/instrumentation-mongodb') as typeof MongoInst;
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof RedisInst;
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof UndiciInst;
  const traceSdk = require('@opentelemetry/sdk-trace') as typeof SdkTrace;
  const sdk = new NodeSDK({
    serviceName: `trackme-${service}`,
    sampler: samplerOf(traceSdk, sampling),
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    // trackme's metrics are Prometheus' (prom-client); the SDK's default OTLP metric reader would
    // record a histogram for every HTTP request besides, and its log exporter has nothing to send
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // the SERVER spans come from the platform's fastify hooks (../observability/server-spans.ts);
      // what is left here are node:http's outgoing calls (e.g. a JWKS fetch)
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      // the gateway's calls to read and metrics (undici): CLIENT spans whose context the services continue
      new UndiciInstrumentation({
        requestHook: (span, request) => {
          if (span.isRecording()) withoutQuery(span, `${request.origin}${request.path}`);
        },
      }),
      // statements keep their shape only: the default serializer replaces every value with '?'
      new MongoDBInstrumentation(),
      // command names only: keys and values may name a client
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
  // ioredis reaches the services through ESM imports, which the require hook does not see:
  // loading it here, once patched, puts the patched module in the cache those imports share
  require('ioredis');
  started = {
    endpoint,
    shutdown: async () => {
      started = undefined;
      await sdk.shutdown();
    },
  };
  return started;
}

interface Sampling {
  sampler: (typeof TRACE_SAMPLERS)[number];
  ratio: number;
}

function samplingOf(env: Record<string, string | undefined>): Sampling | undefined {
  const sampler = (env['OTEL_TRACES_SAMPLER'] || 'parentbased_always_on') as Sampling['sampler'];
  const ratio = env['OTEL_TRACES_SAMPLER_ARG'] ? Number(env['OTEL_TRACES_SAMPLER_ARG']) : 1;
  if (!TRACE_SAMPLERS.includes(sampler) || !(ratio >= 0 && ratio <= 1)) return undefined;
  return { sampler, ratio };
}

function samplerOf(sdk: typeof SdkTrace, { sampler, ratio }: Sampling) {
  const root =
    sampler.endsWith('always_on') ? new sdk.AlwaysOnSampler() : sampler.endsWith('always_off') ? new sdk.AlwaysOffSampler() : new sdk.TraceIdRatioBasedSampler(ratio);
  return sampler.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root }) : root;
}

/** Overwrites a CLIENT span's URL attributes with the URL without its query: query values may be personal data. */
function withoutQuery(span: { setAttribute(key: string, value: string): unknown }, url: string): void {
  const at = url.indexOf('?');
  if (at < 0) return;
  span.setAttribute('url.query', '');
  span.setAttribute('url.full', url.slice(0, at));
}
