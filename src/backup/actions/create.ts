// `borg create`: every source must exist first (borg 1.2 would only warn and make an archive
// without it, which is a silent loss); stats come from --json.
import { promises as fs } from 'node:fs';
import { BackupFailedError } from '../../errors';
import { runBorgStep } from '../retry';
import type { RunContext, StepOutcome } from '../run-context';

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
  const out = await runBorgStep(ctx, { step: 'create', retriesOf: 'create', args: createArgs(ctx) });
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
