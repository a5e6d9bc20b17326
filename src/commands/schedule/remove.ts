// `borg-provision schedule remove JOB`: take a job out of every scheduler that has it (or --via
// only), leaving nothing behind: no unit, no cron file, no crontab block, no middleware cron job.
import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { planJson, renderActions } from '../../cli/schedule-render';
import { scheduleFlags } from '../../cli/schedule-flags';
import type { Via } from '../../schedule';

export default class ScheduleRemove extends BaseCommand {
  static override summary = 'Stop running a backup job on a schedule';
  static override examples = [
    '<%= config.bin %> schedule remove nas',
    '<%= config.bin %> schedule remove nas --via cron --dry-run',
  ];
  static override args = { job: Args.string({ description: 'the backup job', required: true }) };
  static override flags = { via: scheduleFlags.via, 'dry-run': scheduleFlags['dry-run'] };

  async run(): Promise<{ job: string; removed: Record<string, unknown>[] }> {
    const { args, flags } = await this.parse(ScheduleRemove);
    const { planRemove, applyPlan } = await import('../../schedule');
    const o = { via: flags.via as Via | undefined };
    const plans = await planRemove(args.job, o);
    const dryRun = flags['dry-run'];
    if (!dryRun) for (const p of plans) await applyPlan(p, o);
    const result = { job: args.job, removed: plans.map((p) => planJson(p, dryRun)) };
    if (this.jsonEnabled()) return result;
    if (plans.length === 0) {
      this.log(`job ${args.job} is not scheduled${flags.via ? ` via ${flags.via}` : ''}: nothing to remove`);
    }
    for (const p of plans) {
      if (dryRun) renderActions(p.actions, (l) => this.log(l));
      else this.log(`removed ${args.job} from ${p.via}`);
    }
    return result;
  }
}
