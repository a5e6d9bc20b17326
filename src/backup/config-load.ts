// Reading a job's config.yaml: YAML (with line numbers kept), then the schema of its format,
// then the resolved JobConfig. Every error names the file, the line and the key and says what is
// expected (JobConfigError, exit 2); nothing runs on a bad config.
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document } from 'yaml';
import type * as z from 'zod/mini';
import { JobConfigError, UsageError, filesystemError } from '../errors';
import { nativeSchema, originSchema } from './config-schema';
import { parseDuration } from './durations';
import { expandPath } from './expand';
import { SECRET_NAMES, isRemoteRepository, type JobConfig, type JobFormat } from './job-config';
import { jobConfigFile, jobDir } from './job-paths';
import { fromNative, fromOrigin } from './origin-format';
import { readRegularFile } from './read-regular';

export interface LoadOptions {
  configDir?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The job as config.yaml says, for showing it (list, status, show): read without following a
 * symlink or blocking on a FIFO, but not checked for who may change it. Whatever runs something
 * of a job (hooks, borg with its secrets) goes through openJob in job-security.ts instead.
 */
export async function loadJob(name: string, o: LoadOptions = {}): Promise<JobConfig> {
  const file = jobConfigFile(name, o.configDir);
  const text = await readJobConfig(name, file);
  return parseJob(name, jobDir(name, o.configDir), file, text, o.env ?? process.env);
}

/** config.yaml's text, from one descriptor `inspect` sees the fstat of first (see read-regular.ts). */
export async function readJobConfig(name: string, file: string, inspect?: (st: Stats) => void): Promise<string> {
  return readRegularFile(file, inspect).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw noSuchJob(name, file);
    throw filesystemError(err, 'read', file);
  });
}

export function noSuchJob(name: string, file: string): UsageError {
  return new UsageError(`no backup job named '${name}' (${file} does not exist)`, {
    hint: `create it with: borg-provision backup init ${name} --repo URL --source PATH`,
  });
}

/** The resolved job of a config text (exported for tests of the schema and the error lines). */
export function parseJob(name: string, dir: string, file: string, text: string, env: NodeJS.ProcessEnv): JobConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const base = path.basename(file);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = lines.linePos(e.pos[0]).line;
    throw new JobConfigError(`${file}:${line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new JobConfigError(`${file}:1: expected a mapping of keys (sources, repository, ...), got ${describe(data)}`);
  }
  const format: JobFormat = 'repository' in data || !('target' in data || 'backup' in data) ? 'native' : 'origin';
  const schema = format === 'native' ? nativeSchema : originSchema;
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw configError(file, base, doc, lines, parsed.error, format);
  const raw =
    format === 'native'
      ? fromNative(parsed.data as z.output<typeof nativeSchema>)
      : fromOrigin(parsed.data as z.output<typeof originSchema>);
  const checks = raw.checks.map((c, i) => {
    // In this same file keep_within's m (borg's) is months; a bare m here would be read either way.
    if (/^\s*\d+\s*m\s*$/i.test(c.frequency)) {
      throw new JobConfigError(
        `${file}:${lineOf(doc, lines, ['checks', i, 'frequency'])}: checks.${i}.frequency: ` +
          `'${c.frequency}' could mean minutes or months`,
        { hint: 'write the unit out, e.g. "1 month" or "30 minutes"' },
      );
    }
    const everyMs = c.frequency === 'always' ? 0 : parseDuration(c.frequency);
    if (everyMs === null) {
      throw new JobConfigError(
        `${file}:${lineOf(doc, lines, ['checks', i, 'frequency'])}: checks.${i}.frequency: ` +
          `unknown unit in '${c.frequency}'`,
        {
          hint: 'use seconds, minutes, hours, days, weeks, months or years, e.g. "2 weeks"',
        },
      );
    }
    return { ...c, everyMs };
  });
  const within = raw.retention?.keep_within;
  if (within !== undefined && !/^\d+[Hdwmy]$/.test(within)) {
    throw new JobConfigError(
      `${file}:${lineOf(doc, lines, ['retention', 'keep_within'])}: retention.keep_within: ` +
        `'${within}' is not a borg interval`,
      {
        hint: 'use a number and one of H, d, w, m, y (e.g. 3H, 7d)',
      },
    );
  }
  const names = SECRET_NAMES[format];
  const remote = isRemoteRepository(raw.repository);
  const repository = remote ? raw.repository : path.resolve(dir, expandPath(raw.repository, env));
  return {
    ...raw,
    name,
    dir,
    file,
    format,
    repository,
    remote,
    // Relative to the job, like the repository: not to wherever cron or systemd starts the run.
    sources: raw.sources.map((s) => path.resolve(dir, expandPath(s, env))),
    checks,
    borg: raw.borg === null ? null : expandPath(raw.borg, env),
    secrets: {
      passphrase: path.join(dir, names.passphrase),
      sshKey: remote ? path.join(dir, names.sshKey) : null,
      keyFile: path.join(dir, names.keyFile),
      keyExport: path.join(dir, names.keyExport),
      knownHosts: path.join(dir, names.knownHosts),
      sshConfig: path.join(dir, names.sshConfig),
    },
  };
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'an empty file';
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

/** The line of the node at `keyPath`, else of its nearest existing parent (1 for the top). */
function lineOf(doc: Document, lines: LineCounter, keyPath: (string | number)[]): number {
  for (let n = keyPath.length; n > 0; n--) {
    const node = doc.getIn(keyPath.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      // A key's line reads better than its value's (a list value starts on the next line).
      const parent = n > 1 ? doc.getIn(keyPath.slice(0, n - 1), true) : doc.contents;
      const key = keyNode(parent, keyPath[n - 1]);
      return lines.linePos((key ?? node).range![0]).line;
    }
    const parent = n > 1 ? doc.getIn(keyPath.slice(0, n - 1), true) : doc.contents;
    const key = keyNode(parent, keyPath[n - 1]);
    if (key) return lines.linePos(key.range![0]).line;
  }
  return 1;
}

function keyNode(parent: unknown, key: string | number): { range?: [number, number, number] } | null {
  if (!isMap(parent)) return null;
  for (const item of parent.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === key)
      return item.key as { range?: [number, number, number] };
  }
  return null;
}

function configError(
  file: string,
  base: string,
  doc: Document,
  lines: LineCounter,
  error: z.core.$ZodError,
  format: JobFormat,
): JobConfigError {
  // A typo shows as a missing key and an unknown one: the unknown one says more.
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0];
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const known = knownKeys(format, at);
    const near = closest(key, known);
    return new JobConfigError(
      `${file}:${lineOf(doc, lines, [...at, key])}: unknown key '${[...at, key].join('.')}'${more}`,
      {
        hint: near
          ? `did you mean '${near}'? (${base} keys: ${known.join(', ')})`
          : `expected one of: ${known.join(', ')}`,
      },
    );
  }
  const dotted = at.join('.') || '(top)';
  const value = at.length ? doc.getIn(at) : undefined;
  const message =
    value === undefined && issue.code === 'invalid_type' ? `is required (${issue.expected})` : issue.message;
  const formatNote = format === 'origin' ? ' (the origin runner format: backup, target, options, cleanup, tries)' : '';
  return new JobConfigError(`${file}:${lineOf(doc, lines, at)}: ${dotted}: ${message}${more}`, {
    hint: `see docs/backup.md for the keys of config.yaml${formatNote}`,
  });
}

/** The keys the schema allows at `at` (a path into the config; list indexes are skipped). */
function knownKeys(format: JobFormat, at: (string | number)[]): string[] {
  let schema: unknown = format === 'native' ? nativeSchema : originSchema;
  for (const part of at) {
    schema = unwrap(schema);
    if (typeof part === 'number') schema = (schema as { def?: { element?: unknown } }).def?.element;
    else schema = (schema as { def?: { shape?: Record<string, unknown> } }).def?.shape?.[part];
  }
  const shape = (unwrap(schema) as { def?: { shape?: Record<string, unknown> } } | undefined)?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { unwrap?: () => unknown; def?: { innerType?: unknown } } | undefined;
  while (s && s.def?.innerType !== undefined) s = s.def.innerType as typeof s;
  return s;
}

/** The known key nearest to a typo (edit distance <= 3), if any. */
function closest(word: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = 4;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
