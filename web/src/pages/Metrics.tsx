import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, mayWrite } from '../api.js';
import { useResource, useUser } from '../hooks.js';
import { loadStages, stageName, type Stage } from '../model.js';
import { ProblemMessage } from '../ui.js';
import { LineChart } from './LineChart.js';

interface Row {
  type: string;
  value: number;
  interval: 'day' | 'week' | 'month';
  period_start: string;
  labels: Record<string, string>;
}
interface Job {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  rows?: number;
  error?: string;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const daysAgo = (n: number) => isoDay(new Date(Date.now() - n * 86_400_000));

async function rows(type: string, interval: string, from: string, to: string): Promise<Row[]> {
  const answer = await call<Row[]>('GET', 'metrics', { query: { type, interval, from, to, limit: 1000 } });
  return answer.data.filter((r) => !r.labels['estimate']);
}

/** The rows of the latest period in the answer, one per label. */
const latest = (list: Row[]) => {
  const last = list.reduce((max, r) => (r.period_start > max ? r.period_start : max), '');
  return list.filter((r) => r.period_start === last);
};

export function MetricsPage() {
  const user = useUser();
  const [interval, setInterval] = useState<'day' | 'week' | 'month'>('day');
  const [from, setFrom] = useState(daysAgo(30));
  const [to, setTo] = useState(daysAgo(0));
  const [stages, setStages] = useState<Stage[]>();
  useEffect(() => void loadStages().then(setStages, () => undefined), []);
  const key = `${interval}:${from}:${to}`;
  const data = useResource(key, async () => {
    const types = ['funnel', 'source-conversion', 'channel-conversion', 'clients-per-stage', 'stage-duration', 'app-install-rate', 'autopayment-rate', 'conversion'];
    const [dau, wau, mau, ...rest] = await Promise.all([
      rows('dau', 'day', from, to),
      rows('wau', 'week', from, to),
      rows('mau', 'month', from, to),
      ...types.map((t) => rows(t, interval, from, to)),
    ]);
    return { dau: dau!, wau: wau!, mau: mau!, ...Object.fromEntries(types.map((t, i) => [t, rest[i]!])) } as Record<string, Row[]>;
  });
  const d = data.data;
  const series = (list: Row[] | undefined) => [...(list ?? [])].sort((a, b) => a.period_start.localeCompare(b.period_start)).map((r) => ({ x: r.period_start, y: r.value }));
  const label = (r: Row, key: string) => (key === 'stage' ? stageName(stages, r.labels['stage'] ?? '') : (r.labels[key] ?? '—'));
  return (
    <section>
      <h1>Metrics</h1>
      <form class="filters" aria-label="Range" onSubmit={(e) => e.preventDefault()}>
        <label>
          Interval
          <select value={interval} onChange={(e) => setInterval((e.currentTarget as HTMLSelectElement).value as 'day')}>
            <option value="day">Day</option>
            <option value="week">Week</option>
            <option value="month">Month</option>
          </select>
        </label>
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </form>
      {mayWrite(user) && <Recalculate interval={interval} onDone={() => void data.reload()} />}
      <ProblemMessage error={data.error} />
      {!d && !data.error && <p>Loading…</p>}
      {d && (
        <>
          <div class="charts">
            <LineChart title="Daily active clients (DAU)" points={series(d['dau'])} />
            <LineChart title="Weekly active clients (WAU)" points={series(d['wau'])} />
            <LineChart title="Monthly active clients (MAU)" points={series(d['mau'])} />
            <LineChart title="App install rate" points={series(d['app-install-rate'])} percent />
            <LineChart title="Autopayment rate" points={series(d['autopayment-rate'])} percent />
            <LineChart title="Conversion" points={series(d['conversion'])} percent />
          </div>
          <div class="bars-grid">
            <Bars title="Funnel: share that advanced, per stage" rows={latest(d['funnel'] ?? [])} name={(r) => label(r, 'stage')} percent />
            <Bars title="Clients per stage" rows={latest(d['clients-per-stage'] ?? [])} name={(r) => label(r, 'stage')} />
            <Bars title="Conversion per source" rows={latest(d['source-conversion'] ?? [])} name={(r) => label(r, 'source')} percent />
            <Bars title="Conversion per channel" rows={latest(d['channel-conversion'] ?? [])} name={(r) => label(r, 'channel')} percent />
            <Bars title="Hours in stage (average)" rows={latest(d['stage-duration'] ?? [])} name={(r) => label(r, 'stage')} />
          </div>
        </>
      )}
    </section>
  );
}

function Bars({ title, rows, name, percent = false }: { title: string; rows: Row[]; name: (r: Row) => string; percent?: boolean }) {
  const max = Math.max(...rows.map((r) => r.value), percent ? 1 : 0) || 1;
  return (
    <figure class="bars">
      <figcaption>
        {title}
        {rows[0] ? <span class="period"> ({rows[0].period_start})</span> : null}
      </figcaption>
      {rows.length === 0 ? (
        <p class="empty">No figures for this range.</p>
      ) : (
        <table>
          <tbody>
            {rows.map((r) => (
              <tr key={JSON.stringify(r.labels)}>
                <th scope="row">{name(r)}</th>
                <td>
                  <span class="bar" style={{ width: `${Math.round((r.value / max) * 100)}%` }} />
                  <span class="value">{percent ? `${(r.value * 100).toFixed(1)}%` : Number(r.value.toFixed(2))}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}

/** Asks for a rollup of the current period and follows the job until it ends. */
function Recalculate({ interval, onDone }: { interval: string; onDone: () => void }) {
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<unknown>();
  const start = async () => {
    setError(undefined);
    try {
      let current = (await call<Job>('POST', 'metrics/calculate', { query: { interval } })).data;
      setJob(current);
      while (current.status === 'queued' || current.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 500));
        current = (await call<Job>('GET', `metrics/jobs/${encodeURIComponent(current.id)}`)).data;
        setJob(current);
      }
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError({ status: 0, title: String(caught) }));
    }
  };
  const busy = job?.status === 'queued' || job?.status === 'running';
  return (
    <div class="recalc">
      <button type="button" disabled={busy} onClick={() => void start()}>
        Recalculate {interval}
      </button>
      <span role="status">{job ? `Job ${job.status}${job.status === 'succeeded' ? `: ${job.rows ?? 0} rows` : ''}${job.error ? `: ${job.error}` : ''}` : ''}</span>
      <ProblemMessage error={error} />
    </div>
  );
}
