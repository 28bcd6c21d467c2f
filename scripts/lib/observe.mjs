// `npm start -- --observe`: Prometheus (Debian's binary) scraping the four local services with the
// rules of deploy/prometheus/rules.yml, its config and data under the git-ignored .local/observe/;
// and Jaeger (built from source, see jaeger.mjs) as the trace store the services export to.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startJaeger } from './jaeger.mjs';
import { prometheusBinaries } from './prometheus.mjs';

/** Starts Prometheus on `port`, scraping each service's metrics port; returns its URL and the process. */
export function startPrometheus(services, port = 9090) {
  const { prometheus } = prometheusBinaries();
  if (!prometheus) throw new Error('no prometheus binary (Debian package `prometheus`)');
  const dir = path.resolve('.local/observe');
  mkdirSync(dir, { recursive: true });
  const jobs = services.map(({ name, metricsPort }) => `  - job_name: ${name}\n    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]`);
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 5s, evaluation_interval: 5s }\nrule_files: ['${path.resolve('deploy/prometheus/rules.yml')}']\nscrape_configs:\n${jobs.join('\n')}\n`,
  );
  const child = spawn(prometheus, [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Starts Jaeger on its usual ports: OTLP/HTTP on :4318, the query API on :16686 (gRPC :16685). */
export function startTraceStore(say) {
  return startJaeger({ log: say });
}
