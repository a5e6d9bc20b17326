// How schedule plans and lists read: --dry-run prints every file whole and every command as it
// would run; a real run says what changed in one line per job.
import type { Action, ListedSchedule, Plan, When } from '../schedule';
import { shQuoteForDisplay } from '../util/text';

const argvText = (argv: string[]): string => argv.map(shQuoteForDisplay).join(' ');

export function renderActions(actions: Action[], log: (line: string) => void): void {
  for (const a of actions) {
    if (a.kind === 'write') {
      log(`would write ${a.path} (mode ${a.mode.toString(8).padStart(4, '0')}):`);
      log(a.content.replace(/\n$/, ''));
    } else if (a.kind === 'delete') {
      log(`would delete ${a.path}`);
    } else {
      log(`would run: ${argvText(a.argv)}${a.input === undefined ? '' : ' with this on stdin:'}`);
      if (a.input !== undefined) log(a.input.replace(/\n$/, ''));
    }
  }
}

export function whenText(w: When): string {
  const delay = w.randomDelay ? ` (+ up to ${w.randomDelay} at random)` : '';
  return `${w.description}${delay}`;
}

/** JSON for an action: the same fields, the mode in octal as people write it, no previous content. */
export function actionJson(a: Action): Record<string, unknown> {
  if (a.kind === 'write') {
    return { kind: a.kind, path: a.path, mode: a.mode.toString(8).padStart(4, '0'), content: a.content };
  }
  if (a.kind === 'delete') return { kind: a.kind, path: a.path };
  return { kind: a.kind, argv: a.argv, ...(a.input === undefined ? {} : { input: a.input }) };
}

export function planJson(p: Plan, dryRun: boolean): Record<string, unknown> {
  return {
    job: p.job,
    via: p.via,
    ...(p.when ? { when: p.when } : {}),
    ...(p.command ? { command: p.command } : {}),
    dryRun,
    changed: p.actions.some((a) => a.kind !== 'run' || !a.argv.includes('enable')),
    actions: p.actions.map(actionJson),
    ...(p.warnings.length > 0 ? { warnings: p.warnings } : {}),
  };
}

export function renderList(items: ListedSchedule[], log: (line: string) => void): void {
  if (items.length === 0) {
    log('no backup jobs are scheduled');
    return;
  }
  const rows = items.map((s) => [
    s.job,
    s.via,
    whenText(s.when),
    s.when.nextRun ?? '-',
    s.enabled === null ? '?' : s.enabled ? 'yes' : 'no',
  ]);
  const head = ['JOB', 'VIA', 'WHEN', 'NEXT RUN', 'ENABLED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}
