// Both config formats brought to one shape. The origin document's runner format maps as its
// script behaved: `options.backup` / `options.cleanup` are split on spaces into extra create /
// prune arguments, `cleanup.*` are prune's --keep-* counts, `tries.*` count every try (our
// retries are the tries after the first), and it waited 10 s between tries.
import type * as z from 'zod/mini';
import type { nativeSchema, originSchema } from './config-schema';
import type { JobConfig } from './job-config';

type Raw = Omit<JobConfig, 'name' | 'dir' | 'file' | 'format' | 'remote' | 'secrets' | 'checks'> & {
  checks: { name: JobConfig['checks'][number]['name']; frequency: string }[];
};

export function fromNative(c: z.output<typeof nativeSchema>): Raw {
  const createOptions = [
    ...(c.compression ? ['--compression', c.compression] : []),
    ...c.exclude_patterns.flatMap((p) => ['--exclude', p]),
    ...(c.one_file_system ? ['--one-file-system'] : []),
    ...c.create_options,
  ];
  return {
    sources: c.sources,
    repository: c.repository,
    archiveName: c.archive_name,
    createOptions,
    pruneOptions: c.prune_options,
    retention: c.retention && Object.keys(c.retention).length > 0 ? c.retention : null,
    compact: c.compact,
    checks: c.checks,
    retries: { create: c.retries, prune: c.retries, compact: c.retries, check: c.retries },
    retryWaitS: c.retry_wait,
    lockWaitS: c.lock_wait,
    hooks: c.hooks,
    pingUrl: c.ping_url ?? null,
    borg: c.borg ?? null,
  };
}

function words(s: string): string[] {
  return s.split(' ').filter((w) => w !== '');
}

export function fromOrigin(c: z.output<typeof originSchema>): Raw {
  const keep = {
    keep_daily: c.cleanup.daily,
    keep_weekly: c.cleanup.weekly,
    keep_monthly: c.cleanup.monthly,
    keep_yearly: c.cleanup.yearly,
  };
  // borg refuses --keep-x 0 with nothing else; a 0 in the origin file meant "none of this kind".
  const retention = Object.fromEntries(Object.entries(keep).filter(([, v]) => v > 0));
  return {
    sources: c.backup,
    repository: c.target,
    archiveName: '{hostname}-{now}',
    createOptions: words(c.options.backup),
    pruneOptions: words(c.options.cleanup),
    retention: Object.keys(retention).length > 0 ? retention : null,
    compact: true,
    checks: [],
    retries: { create: c.tries.backup - 1, prune: c.tries.cleanup - 1, compact: c.tries.cleanup - 1, check: 0 },
    retryWaitS: 10,
    lockWaitS: 60,
    hooks: { before: [], after: [], on_error: [] },
    pingUrl: null,
    borg: null,
  };
}
