// The two shapes a job's config.yaml may have, as zod schemas: the native one (documented in
// docs/backup.md, published as JSON Schema in docs/backup-config.schema.json) and the origin
// document's runner format (backup/target/options/cleanup/tries), which is read unchanged.
// Both are strict: an unknown key is an error naming it, since a typo must not silently disable
// a retention rule or a check.
// zod's mini API: the same validation and messages with far less built at start-up (the classic
// API puts its methods on every schema object), and every scheduled run starts here.
import * as z from 'zod/mini';
import { en } from 'zod/locales';

// Messages in English, as the classic API sets by default; the mini API leaves them generic.
z.config(en());

const described = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description)) as T;
const text = () => z.string().check(z.minLength(1));
const count = z.number().check(z.int(), z.minimum(0));
const positive = z.number().check(z.int(), z.minimum(1));
const commands = z._default(z.array(text()), []);
/** "2 weeks", "1 day", "12h", "30 minutes": checked by parseDuration when the config is resolved. */
const duration = z
  .string()
  .check(z.regex(/^\s*\d+\s*[a-z]+\s*$/i, 'expected a number and a unit, e.g. "2 weeks" or "12h"'));

export const CHECK_NAMES = ['repository', 'archives', 'data'] as const;

export const nativeSchema = described(
  z.strictObject({
    sources: described(z.array(text()).check(z.minLength(1)), 'paths to back up; $VARS and ~ are expanded'),
    repository: described(text(), 'a local path, ssh://user@host[:port]/path or user@host:path'),
    archive_name: described(z._default(text(), '{hostname}-{now}'), 'borg placeholders allowed'),
    compression: described(z.optional(text()), 'borg create --compression, e.g. zstd,3'),
    exclude_patterns: z._default(z.array(text()), []),
    one_file_system: z._default(z.boolean(), false),
    create_options: described(z._default(z.array(z.string()), []), 'extra arguments for borg create'),
    prune_options: described(z._default(z.array(z.string()), []), 'extra arguments for borg prune'),
    retention: described(
      z.optional(
        z.strictObject({
          keep_within: z.optional(duration),
          keep_last: z.optional(positive),
          keep_hourly: z.optional(positive),
          keep_daily: z.optional(positive),
          keep_weekly: z.optional(positive),
          keep_monthly: z.optional(positive),
          keep_yearly: z.optional(positive),
        }),
      ),
      'what borg prune keeps; without it nothing is pruned',
    ),
    compact: described(z._default(z.boolean(), true), 'run borg compact after prune (borg >= 1.2)'),
    checks: z._default(
      z.array(
        z.strictObject({
          name: z.enum(CHECK_NAMES),
          frequency: z._default(z.union([duration, z.literal('always')]), 'always'),
        }),
      ),
      [],
    ),
    retries: described(z._default(count, 0), 'further tries of a step after a failure that can pass'),
    retry_wait: described(z._default(count, 10), 'seconds before the first retry; grows by this much per try'),
    lock_wait: described(z._default(count, 60), 'seconds borg waits for a repository lock'),
    hooks: z._default(z.strictObject({ before: commands, after: commands, on_error: commands }), {
      before: [],
      after: [],
      on_error: [],
    }),
    ping_url: described(z.optional(z.url({ protocol: /^https?$/ })), 'healthchecks-style URL: /start, success, /fail'),
    borg: described(z.optional(text()), 'the borg to run; default the installed wrapper, else borg on PATH'),
  }),
  'borg-provision backup job',
);

export type NativeConfig = z.output<typeof nativeSchema>;

/** Space-separated options, as the origin script split them; an empty string means none. */
const optionString = z._default(z.string(), '');

export const originSchema = z.strictObject({
  backup: z.array(text()).check(z.minLength(1)),
  target: text(),
  options: z._default(z.strictObject({ backup: optionString, cleanup: optionString }), { backup: '', cleanup: '' }),
  cleanup: z.strictObject({ daily: count, weekly: count, monthly: count, yearly: count }),
  tries: z._default(z.strictObject({ backup: positive, cleanup: positive }), { backup: 1, cleanup: 1 }),
});

export type OriginConfig = z.output<typeof originSchema>;

/** The JSON Schema editors use (docs/backup-config.schema.json is this, kept in step by a test). */
export function nativeJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(nativeSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
