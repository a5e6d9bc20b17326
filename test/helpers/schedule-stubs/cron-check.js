// Stand-ins' own cron field check (shared by the midclt and crontab stand-ins), written apart from
// the code under test: croniter's ranges and names, the middleware's rule that only `*` or a range
// may come before `/`. It is stricter than croniter on exotic syntax (L, W, #, ?), which
// borg-provision never sends.
'use strict';

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'dom', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    base: 1,
  },
  { name: 'dow', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], base: 0 },
];

function value(f, token) {
  const named = f.names ? f.names.indexOf(token.toLowerCase()) : -1;
  if (named >= 0) return named + f.base;
  if (!/^\d+$/.test(token)) throw new Error(`[${f.name}] '${token}' is not a number`);
  const n = Number(token);
  if (n < f.min || n > f.max) throw new Error(`[${f.name}] ${n} is out of range ${f.min}-${f.max}`);
  return n;
}

/** Throws an Error naming the field when one value is not valid cron. */
function checkField(index, text) {
  const f = FIELDS[index];
  if (typeof text !== 'string' || text === '') throw new Error(`[${f.name}] empty`);
  if (text.includes('/') && !/^(\*|[0-9]+-[0-9]+)\/([0-9]+)$/.test(text)) {
    throw new Error('Only range or `*` are allowed before `/`');
  }
  for (const item of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw new Error(`[${f.name}] bad item '${item}'`);
    if (m[2] !== undefined && Number(m[2]) < 1) throw new Error(`[${f.name}] step 0`);
    if (m[1] === '*') continue;
    const [a, b] = m[1].split('-');
    const lo = value(f, a);
    if (b !== undefined && value(f, b) < lo) throw new Error(`[${f.name}] range ${m[1]} backwards`);
  }
}

function checkFields(fields) {
  fields.forEach((t, i) => checkField(i, t));
}

module.exports = { FIELDS, checkField, checkFields };
