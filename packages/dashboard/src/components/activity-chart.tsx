import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Activity } from '../api/types.js';

/** A colour per rollout group, by its position (uPlot draws on a canvas: colours are given here, not in CSS). */
const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7e8c', '#57606a'];

export function groupsOf(activity: Activity): string[] {
  const groups = new Set<string>();
  for (const minute of activity.perMinute) for (const group of Object.keys(minute.groups)) groups.add(group);
  return [...groups].sort();
}

/**
 * Evaluations per minute by rollout group, a line each (uPlot: small, canvas, no
 * dependencies). The same figures are in the table below it for screen readers and
 * keyboard users; the canvas is hidden from them.
 */
export function ActivityChart({ activity }: { activity: Activity }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);
  const groups = groupsOf(activity);
  const key = groups.join('|');

  useEffect(() => {
    const element = box.current!;
    const width = Math.max(280, Math.min(element.clientWidth, 900));
    chart.current = new uPlot(
      {
        width,
        height: 220,
        series: [
          {},
          ...groups.map((group, i) => ({
            label: group,
            stroke: COLOURS[i % COLOURS.length]!,
            width: 2,
            points: { show: true, size: 5 },
          })),
        ],
        axes: [{}, { label: 'per minute' }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      dataOf(activity, groups),
      element,
    );
    const resize = () =>
      chart.current?.setSize({ width: Math.max(280, Math.min(element.clientWidth, 900)), height: 220 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.current?.destroy();
      chart.current = undefined;
    };
  }, [key]);

  useEffect(() => {
    chart.current?.setData(dataOf(activity, groups));
  });

  return <div class="chart" ref={box} aria-hidden="true" />;
}

function dataOf(activity: Activity, groups: string[]): uPlot.AlignedData {
  const times = activity.perMinute.map((m) => Date.parse(m.minute) / 1000);
  return [times, ...groups.map((group) => activity.perMinute.map((m) => m.groups[group] ?? 0))];
}
