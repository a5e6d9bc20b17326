// `borg create`: every source must exist first (borg 1.2 would only warn and make an archive
// without it, which is a silent loss); stats come from --json.
import { promises as fs } from 'node:fs';
import { BackupFailedError } from '../../errors';
import { archiveGlob } from '../archive-glob';
import type { BorgResult } from '../borg-process';
import type { Verdict } from '../classify';
import { runBorgStep } from '../retry';
import type { RunContext, StepOutcome } from '../run-context';

/**
 * An archive name taken within the same second passes on the next try, which gets a new time; a
 * name with nothing in it that changes per run never does.
 */
function nameClash(ctx: Pick<RunContext, 'job'>): (r: BorgResult, v: Verdict) => Verdict {
  const fixed = archiveGlob(ctx.job.archiveName) === ctx.job.archiveName;
  return (r, v) =>
    fixed && v.kind === 'transient' && /Archive .* already exists/i.test(r.stderr)
      ? {
          kind: 'permanent',
          reason: `an archive named ${ctx.job.archiveName} exists already`,
          hint: "put a time in the job's archive_name, e.g. '{hostname}-{now}'",
        }
      : v;
}

export function createArgs(ctx: Pick<RunContext, 'job'>): string[] {
  const j = ctx.job;
  return [
    'create',
    '--stats',
    '--json',
    '--lock-wait',
    String(j.lockWaitS),
    ...j.createOptions,
    `::${j.archiveName}`,
    ...j.sources,
  ];
}

export async function missingSources(sources: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const s of sources)
    if (
      !(await fs.lstat(s).then(
        () => true,
        () => false,
      ))
    )
      missing.push(s);
  return missing;
}

export async function create(ctx: RunContext): Promise<StepOutcome> {
  const missing = await missingSources(ctx.job.sources);
  if (missing.length > 0) {
    ctx.log.line(`create: source missing: ${missing.join(', ')}`);
    throw Object.assign(
      new BackupFailedError(
        `${ctx.job.name}: create failed: source ${missing.join(', ')} does not exist; no archive was made`,
        {
          hint: `mount or restore it, or remove it from sources in ${ctx.job.file}`,
        },
      ),
      { step: 'create', tries: 0, retried: [] },
    );
  }
  const out = await runBorgStep(ctx, {
    step: 'create',
    retriesOf: 'create',
    args: createArgs(ctx),
    judge: nameClash(ctx),
  });
  const { result, ...outcome } = out;
  return { ...outcome, detail: parseCreateJson(result?.stdout ?? '') };
}

function parseCreateJson(stdout: string): Record<string, unknown> {
  try {
    const j = JSON.parse(stdout) as { archive?: { name?: string; duration?: number; stats?: Record<string, number> } };
    const st = j.archive?.stats ?? {};
    return {
      archive: j.archive?.name ?? null,
      files: st.nfiles ?? null,
      originalSize: st.original_size ?? null,
      deduplicatedSize: st.deduplicated_size ?? null,
    };
  } catch {
    return { archive: null };
  }
}
