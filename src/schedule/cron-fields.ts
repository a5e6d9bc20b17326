// A five-field cron expression (minute hour day-of-month month day-of-week), read with the syntax
// every backend shares: numbers, names (jan-dec, sun-sat), `*`, ranges, lists and `*`/range steps.
// croner checks the expression as cron would; this module then expands each field to the values
// it stands for, which the systemd calendar needs. Extensions that only some crons know (L, W, #,
// ?, @daily, N/step) are refused, so that one schedule means the same thing in every backend.
import { Cron } from 'croner';
import { UsageError } from '../errors';

export const CRON_FIELD_NAMES = ['minute', 'hour', 'dom', 'month', 'dow'] as const;
export type CronFieldName = (typeof CRON_FIELD_NAMES)[number];
export type CronFields = Record<CronFieldName, string>;

interface FieldRule {
  min: number;
  max: number;
  names?: readonly string[];
  nameBase?: number;
}

const RULES: Record<CronFieldName, FieldRule> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dom: { min: 1, max: 31 },
  month: {
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    nameBase: 1,
  },
  // 0 and 7 are both Sunday, as in cron and in the TrueNAS middleware's croniter.
  dow: { min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], nameBase: 0 },
};

export interface CronExpression {
  /** The five fields, names replaced by numbers: what cron, croniter and croner all read alike. */
  fields: CronFields;
  /** The expression as one line: the fields joined by single spaces. */
  text: string;
  /** The values each field matches, sorted; Sunday is 0 (never 7). */
  values: Record<CronFieldName, number[]>;
}

const HINT = 'five fields: minute hour day-of-month month day-of-week, e.g. --cron "30 2 * * *"';

function bad(expr: string, why: string): UsageError {
  return new UsageError(`bad cron expression '${expr}': ${why}`, { hint: HINT });
}

function toNumber(expr: string, field: CronFieldName, token: string): number {
  const rule = RULES[field];
  const lower = token.toLowerCase();
  const named = rule.names?.indexOf(lower) ?? -1;
  if (named >= 0) return named + (rule.nameBase ?? 0);
  if (!/^\d{1,2}$/.test(token)) throw bad(expr, `'${token}' in the ${field} field is not a number`);
  const n = Number(token);
  if (n < rule.min || n > rule.max) throw bad(expr, `${field} ${n} is outside ${rule.min}-${rule.max}`);
  return n;
}

/** One comma-separated item: `*`, `N`, `A-B`, `*\/S` or `A-B/S`, names already allowed for A and B. */
function expandItem(expr: string, field: CronFieldName, item: string): { canonical: string; values: number[] } {
  const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(item);
  if (!m) throw bad(expr, `'${item}' in the ${field} field is not a number, a range or a step`);
  const [, base, stepText] = m;
  const rule = RULES[field];
  let lo = rule.min;
  let hi = rule.max;
  let canonical = '*';
  if (base !== '*') {
    const [a, b] = base.split('-');
    lo = toNumber(expr, field, a);
    hi = b === undefined ? lo : toNumber(expr, field, b);
    if (b !== undefined && hi < lo) throw bad(expr, `the ${field} range ${base} runs backwards`);
    if (b === undefined && stepText !== undefined) throw bad(expr, `a step needs * or a range before it ('${item}')`);
    canonical = b === undefined ? String(lo) : `${lo}-${hi}`;
  }
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step < 1) throw bad(expr, `the step in '${item}' must be at least 1`);
  const values: number[] = [];
  for (let v = lo; v <= hi; v += step) values.push(v);
  return { canonical: stepText === undefined ? canonical : `${canonical}/${step}`, values };
}

function expandField(expr: string, field: CronFieldName, text: string): { canonical: string; values: number[] } {
  const parts = text.split(',').map((item) => expandItem(expr, field, item));
  const set = new Set(parts.flatMap((p) => p.values).map((v) => (field === 'dow' && v === 7 ? 0 : v)));
  return { canonical: parts.map((p) => p.canonical).join(','), values: [...set].sort((a, b) => a - b) };
}

/** Reads and checks a five-field cron expression; throws UsageError (exit 2) naming what is wrong. */
export function parseCronExpression(expr: string): CronExpression {
  const words = expr
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length !== 5) throw bad(expr, `${words.length} fields, expected 5`);
  const fields = {} as CronFields;
  const values = {} as Record<CronFieldName, number[]>;
  CRON_FIELD_NAMES.forEach((name, i) => {
    const f = expandField(expr, name, words[i]);
    fields[name] = f.canonical;
    values[name] = f.values;
  });
  // Cron ORs day-of-month and day-of-week when both are restricted, but treats a field that starts
  // with `*` (like */2) as unrestricted; croner and systemd differ there, so that mix is refused.
  const restrictedDom = fields.dom !== '*';
  const restrictedDow = fields.dow !== '*';
  if (restrictedDom && restrictedDow && (fields.dom.startsWith('*') || fields.dow.startsWith('*'))) {
    throw bad(
      expr,
      'a step on * in day-of-month or day-of-week together with the other one is read differently by each cron',
    );
  }
  const text = CRON_FIELD_NAMES.map((n) => fields[n]).join(' ');
  checkWithCroner(expr, text);
  return { fields, text, values };
}

/** The well-kept parser's verdict too, so nothing it would refuse is ever scheduled. */
function checkWithCroner(expr: string, text: string): void {
  try {
    const job = new Cron(text, { mode: '5-part', paused: true });
    const next = job.nextRun();
    job.stop();
    if (next === null) throw new Error('it never runs');
  } catch (err) {
    throw bad(expr, err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err));
  }
}
