import { useEffect, useRef } from 'preact/hooks';

interface Point {
  x: string;
  y: number;
}

/**
 * A line over time drawn by uPlot, loaded only when a chart is shown (so it stays out of the
 * first page's JavaScript); the figures are also in a table for screen readers.
 */
export function LineChart({ title, points, percent = false }: { title: string; points: Point[]; percent?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: { destroy(): void } | undefined;
    let cancelled = false;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (cancelled || !box.current || points.length === 0) return;
      const width = Math.max(260, Math.min(box.current.clientWidth || 360, 560));
      const xs = points.map((p) => Date.parse(`${p.x}T00:00:00Z`) / 1000);
      const ys = points.map((p) => (percent ? p.y * 100 : p.y));
      const dark = matchMedia('(prefers-color-scheme: dark)').matches;
      const ink = dark ? '#e6e6e6' : '#1f2328';
      plot = new UPlot(
        {
          width,
          height: 180,
          legend: { show: false },
          // one period alone gets a day either side, not uPlot's default of years
          scales: { x: { time: true, range: (_u: unknown, min: number, max: number): [number, number] => (min === max ? [min - 86_400, max + 86_400] : [min, max]) } },
          axes: [{ stroke: ink, grid: { stroke: dark ? '#333' : '#eee' } }, { stroke: ink, grid: { stroke: dark ? '#333' : '#eee' } }],
          series: [{}, { label: title, stroke: dark ? '#6cb6ff' : '#0550ae', width: 2, points: { show: points.length < 40 } }],
        },
        [xs, ys],
        box.current,
      );
    });
    return () => {
      cancelled = true;
      plot?.destroy();
    };
  }, [JSON.stringify(points), percent, title]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {points.length === 0 ? <p class="empty">No figures for this range.</p> : <div ref={box} class="plot" aria-hidden="true" />}
      {points.length > 0 && (
        <table class="sr-only">
          <caption>{title}</caption>
          <tbody>
            {points.map((p) => (
              <tr key={p.x}>
                <th scope="row">{p.x}</th>
                <td>{percent ? `${(p.y * 100).toFixed(1)}%` : p.y}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}
