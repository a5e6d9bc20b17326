// The two shapes a job's config.yaml may have, as zod schemas: the native one (documented in
// docs/backup.md, published as JSON Schema in docs/backup-config.schema.json) and the origin
// document's runner format (backup/target/options/cleanup/tries), which is read unchanged.
// Both are strict: an unknown key is an error naming it, since a typo must not silently disable
// a retention rule or a check.
// A namespace import, so the bundle keeps only the parts of zod the schema uses.
import * as z from 'zod';

const count = z.number().int().min(0);
const positive = z.number().int().min(1);
const commands = z.array(z.string().min(1)).default([]);
/** "2 weeks", "1 day", "12h", "30 minutes": checked by parseDuration when the config is resolved. */
const duration = z.string().regex(/^\s*\d+\s*[a-z]+\s*$/i, 'expected a number and a unit, e.g. "2 weeks" or "12h"');

export const CHECK_NAMES = ['repository', 'archives', 'data'] as const;

export const nativeSchema = z
  .strictObject({
    sources: z.array(z.string().min(1)).min(1).describe('paths to back up; $VARS and ~ are expanded'),
    repository: z.string().min(1).describe('a local path or ssh://user@host[:port]/path'),
    archive_name: z.string().min(1).default('{hostname}-{now}').describe('borg placeholders allowed'),
    compression: z.string().min(1).optional().describe('borg create --compression, e.g. zstd,3'),
    exclude_patterns: z.array(z.string().min(1)).default([]),
    one_file_system: z.boolean().default(false),
    create_options: z.array(z.string()).default([]).describe('extra arguments for borg create'),
    prune_options: z.array(z.string()).default([]).describe('extra arguments for borg prune'),
    retention: z
      .strictObject({
        keep_within: duration.optional(),
        keep_last: positive.optional(),
        keep_hourly: positive.optional(),
        keep_daily: positive.optional(),
        keep_weekly: positive.optional(),
        keep_monthly: positive.optional(),
        keep_yearly: positive.optional(),
      })
      .optional()
      .describe('what borg prune keeps; without it nothing is pruned'),
    compact: z.boolean().default(true).describe('run borg compact after prune (borg >= 1.2)'),
    checks: z
      .array(
        z.strictObject({
          name: z.enum(CHECK_NAMES),
          frequency: z.union([duration, z.literal('always')]).default('always'),
        }),
      )
      .default([]),
    retries: count.default(0).describe('further tries of a step after a failure that can pass'),
    retry_wait: count.default(10).describe('seconds before the first retry; grows by this much per try'),
    lock_wait: count.default(60).describe('seconds borg waits for a repository lock'),
    hooks: z
      .strictObject({ before: commands, after: commands, on_error: commands })
      .default({ before: [], after: [], on_error: [] }),
    ping_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('healthchecks-style URL: /start, success, /fail'),
    borg: z.string().min(1).optional().describe('the borg to run; default the installed wrapper, else borg on PATH'),
  })
  .describe('borg-provision backup job');

export type NativeConfig = z.output<typeof nativeSchema>;

/** Space-separated options, as the origin script split them; an empty string means none. */
const optionString = z.string().default('');

export const originSchema = z.strictObject({
  backup: z.array(z.string().min(1)).min(1),
  target: z.string().min(1),
  options: z.strictObject({ backup: optionString, cleanup: optionString }).default({ backup: '', cleanup: '' }),
  cleanup: z.strictObject({ daily: count, weekly: count, monthly: count, yearly: count }),
  tries: z.strictObject({ backup: positive, cleanup: positive }).default({ backup: 1, cleanup: 1 }),
});

export type OriginConfig = z.output<typeof originSchema>;

/** The JSON Schema editors use (docs/backup-config.schema.json is this, kept in step by a test). */
export function nativeJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(nativeSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
