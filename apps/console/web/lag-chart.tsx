import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LagHistory } from './api.ts';

const stages = [
  { key: 'enrichment', label: 'enrichment', stroke: '#2563eb' },
  { key: 'projection', label: 'projection', stroke: '#d97706' },
] as const;

/** A uPlot line chart of both stages' lag, in seconds behind or records waiting; follows the container's width. */
export function LagChart({ samples, unit, title }: { samples: LagHistory['samples']; unit: 'seconds' | 'records'; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data: uPlot.AlignedData = [
    samples.map((s) => new Date(s.at).getTime() / 1000),
    ...stages.map((st) => samples.map((s) => s[st.key][unit])),
  ];

  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(260, el.clientWidth);
    plot.current = new uPlot(
      {
        title,
        width: width(),
        height: 200,
        legend: { live: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(unit === 'seconds' ? 5 : 10, max * 1.1)] } },
        axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((t) => (unit === 'seconds' ? `${t}s` : t.toLocaleString())) }],
        series: [{}, ...stages.map((st) => ({ label: st.label, stroke: st.stroke, width: 2, points: { show: false } }))],
      },
      data,
      el,
    );
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 200 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [unit, title]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div class="chart" ref={box} data-unit={unit} />;
}
