// borg-provision detect: which glibc and arch the target really has, which borg build fits, and
// which directories can hold executables. The target stage is loaded lazily so --help stays fast.
import { BaseCommand } from '../cli/base';
import { targetFlags } from '../cli/target-flags';
import type { DetectResult } from '../cli/detect-summary';

export default class Detect extends BaseCommand {
  static override summary = 'Report the target libc, arch, OS and exec-capable paths';
  static override description =
    'Finds the libc the way the target loader would (PT_INTERP of /bin/sh), reads its glibc release and ' +
    'symbol versions, and says which borg Linux build fits. Without flags it inspects this machine.';

  static override examples = [
    '<%= config.bin %> detect',
    '<%= config.bin %> detect --libc ./libc.so.6-from-nas --json',
    '<%= config.bin %> detect --root /mnt/truenas-rootfs',
  ];

  // The shared definitions (src/cli/target-flags.ts); --glibc/--arch make no sense here: detect reads them.
  static override flags = { libc: targetFlags.libc, root: targetFlags.root };

  async run(): Promise<DetectResult> {
    const { flags } = await this.parse(Detect);
    const [{ detectTarget, requireGlibc }, { fittingBuildFor }] = await Promise.all([
      import('../target'),
      import('../releases'),
    ]);
    const { renderSummary, detectWarnings } = await import('../cli/detect-summary');
    const target = requireGlibc(
      await detectTarget({ libc: flags.libc, root: flags.root, signal: this.signal, log: this.trace }),
    );
    // Which build fits is the catalog's knowledge, shown beside what the target stage read.
    const report: DetectResult = { ...target, wouldInstall: fittingBuildFor(target) };
    detectWarnings(report).forEach((w) => this.warnLine(w));
    if (!this.jsonEnabled()) this.log(renderSummary(report));
    return report;
  }
}
