import { Gauge, type Registry } from 'prom-client';
import { METRIC_INTERVALS, type MetricInterval, type MetricType } from '@trackme/contracts';
import type { Logger } from '@trackme/platform';
import type { Calendar } from '../periods.js';
import type { Rollups, RollupValue } from './rollups.js';

/**
 * Where each figure of the current periods goes in Prometheus. Names are the older service's
 * where it had one (its dashboards keep working); figures that depend on the period carry an
 * `interval` label, "at period end" figures (the same for every interval) are taken from the day.
 */
const GAUGES: { name: string; help: string; type: MetricType; labels: string[]; perInterval: boolean; from?: MetricInterval; only?: (row: RollupValue) => boolean }[] = [
  { name: 'trackme_daily_active_users', help: 'Distinct clients who logged in today (exact)', type: 'dau', labels: [], perInterval: false, only: (r) => !r.labels['estimate'] },
  { name: 'trackme_weekly_active_users', help: 'Distinct clients who logged in this ISO week (exact)', type: 'wau', labels: [], perInterval: false, from: 'week', only: (r) => !r.labels['estimate'] },
  { name: 'trackme_monthly_active_users', help: 'Distinct clients who logged in this month (exact)', type: 'mau', labels: [], perInterval: false, from: 'month', only: (r) => !r.labels['estimate'] },
  { name: 'trackme_stickiness', help: 'Average DAU over the period divided by its WAU or MAU', type: 'stickiness', labels: [], perInterval: true },
  { name: 'trackme_new_clients', help: 'Clients created in the current period', type: 'new-clients', labels: [], perInterval: true },
  { name: 'trackme_clients_per_stage', help: 'Clients in each stage now', type: 'clients-per-stage', labels: ['stage'], perInterval: false },
  { name: 'trackme_status_updates_count', help: 'Clients with a change in the current period', type: 'status-updates', labels: [], perInterval: true },
  { name: 'trackme_stage_transitions', help: 'Stage moves in the current period', type: 'transitions', labels: ['from', 'to'], perInterval: true },
  { name: 'trackme_rollback_count_total', help: 'Stage moves to a lower order in the current period', type: 'rollback-count', labels: [], perInterval: true },
  { name: 'trackme_conversion_ratio', help: 'Clients entering the conversion stage / clients moving stage, current period', type: 'conversion', labels: [], perInterval: true },
  { name: 'trackme_source_conversion_ratio', help: 'Conversion ratio by client source, current period', type: 'source-conversion', labels: ['source'], perInterval: true },
  { name: 'trackme_channel_conversion_ratio', help: 'Conversion ratio by acquisition channel, current period', type: 'channel-conversion', labels: ['channel'], perInterval: true },
  { name: 'trackme_funnel_ratio', help: 'Share of clients entering a stage who moved on to a higher one, current period', type: 'funnel', labels: ['stage'], perInterval: true },
  { name: 'trackme_stage_duration_hours', help: 'Average hours in a stage of the clients who left it in the current period', type: 'stage-duration', labels: ['stage'], perInterval: true },
  { name: 'trackme_total_process_duration_days', help: 'Average days from registration to conversion, current period', type: 'total-duration', labels: [], perInterval: true },
  { name: 'trackme_dropout_count', help: 'Active clients without any change for 7 (week) or 30 (month) days', type: 'dropout', labels: [], perInterval: true },
  { name: 'trackme_app_install_rate', help: 'Active clients with the app installed / active clients', type: 'app-install-rate', labels: [], perInterval: false },
  { name: 'trackme_autopayment_rate', help: 'Contracts with autopayment enabled / contracts of active clients', type: 'autopayment-rate', labels: [], perInterval: false },
];

/**
 * Keeps the Prometheus gauges on the current day, week and month: recomputed from the counters
 * every `everyMs` (a handful of document reads), plus the live HyperLogLog estimates.
 */
export class MetricGauges {
  private readonly gauges = new Map<string, Gauge>();
  private readonly estimate: Gauge;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly rollups: Rollups,
    private readonly calendar: Calendar,
    private readonly clock: () => Date,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    for (const spec of GAUGES) {
      const labelNames = spec.perInterval ? ['interval', ...spec.labels] : spec.labels;
      this.gauges.set(spec.name, new Gauge({ name: spec.name, help: spec.help, labelNames, registers: [registry] }));
    }
    this.estimate = new Gauge({
      name: 'trackme_active_users_estimate',
      help: 'Distinct clients who logged in during the current period, live HyperLogLog estimate',
      labelNames: ['interval'],
      registers: [registry],
    });
  }

  async refresh(): Promise<void> {
    const now = this.clock().getTime();
    const byInterval = new Map<MetricInterval, RollupValue[]>();
    for (const interval of METRIC_INTERVALS) byInterval.set(interval, await this.rollups.compute(this.calendar.periodOf(interval, now), now));
    for (const spec of GAUGES) {
      const gauge = this.gauges.get(spec.name)!;
      gauge.reset();
      for (const interval of spec.perInterval ? METRIC_INTERVALS : [spec.from ?? 'day']) {
        for (const row of byInterval.get(interval)!) {
          if (row.type !== spec.type || (spec.only && !spec.only(row))) continue;
          const labels: Record<string, string> = spec.perInterval ? { interval } : {};
          for (const name of spec.labels) labels[name] = row.labels[name] ?? '';
          gauge.set(labels, row.value);
        }
      }
    }
    this.estimate.reset();
    for (const interval of METRIC_INTERVALS) {
      const row = byInterval.get(interval)!.find((r) => r.labels['estimate'] === 'hll');
      if (row) this.estimate.set({ interval }, row.value);
    }
  }

  start(everyMs: number): void {
    const loop = () => {
      this.refreshing = this.refresh().catch((error: unknown) => this.logger.warn({ err: error }, 'metric gauges not refreshed'));
      void this.refreshing.finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(loop, everyMs);
        this.timer.unref();
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.refreshing;
  }
}
