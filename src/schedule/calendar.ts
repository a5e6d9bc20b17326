// A cron expression as systemd OnCalendar= lines (systemd.time(7)): "DOW *-MM-DD HH:MM:00".
// Each field is written as the values it matches (runs of three or more as A..B). Cron runs a job
// when day-of-month OR day-of-week matches if both are restricted; systemd ANDs the parts of one
// line, so that case becomes two lines (a timer fires on any of its OnCalendar= lines).
import type { CronExpression } from './cron-fields';

// systemd orders weekdays Mon..Sun; cron numbers them Sun=0..Sat=6.
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function runs(values: number[]): number[][] {
  const out: number[][] = [];
  for (const v of values) {
    const last = out[out.length - 1];
    if (last && v === last[last.length - 1] + 1) last.push(v);
    else out.push([v]);
  }
  return out;
}

function list(values: number[], show: (v: number) => string): string {
  return runs(values)
    .flatMap((r) => (r.length >= 3 ? [`${show(r[0])}..${show(r[r.length - 1])}`] : r.map(show)))
    .join(',');
}

const pad = (v: number): string => String(v).padStart(2, '0');

function part(expr: CronExpression, field: 'minute' | 'hour' | 'dom' | 'month'): string {
  return expr.fields[field] === '*' ? '*' : list(expr.values[field], pad);
}

function weekdays(values: number[]): string {
  // Monday first, Sunday last, as systemd reads ranges.
  const mondayFirst = values.map((v) => (v === 0 ? 7 : v)).sort((a, b) => a - b);
  return list(mondayFirst, (v) => WEEKDAYS[v % 7]);
}

/** The OnCalendar= values for a cron expression (one, or two when day-of-month and day-of-week are both set). */
export function onCalendar(expr: CronExpression): string[] {
  const time = `${part(expr, 'hour')}:${part(expr, 'minute')}:00`;
  const month = part(expr, 'month');
  const dom = part(expr, 'dom');
  const dowSet = expr.fields.dow !== '*';
  const domSet = expr.fields.dom !== '*';
  const byDow = `${weekdays(expr.values.dow)} *-${month}-* ${time}`;
  const byDom = `*-${month}-${dom} ${time}`;
  if (dowSet && domSet) return [byDow, byDom];
  return [dowSet ? byDow : byDom];
}
