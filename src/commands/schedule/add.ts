// `borg-provision schedule add JOB`: run a backup job on a schedule, through the scheduler this
// machine has (TrueNAS's middleware, systemd, cron). Adding it again updates it in place.
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { planJson, renderActions, whenText } from '../../cli/schedule-render';
import { scheduleFlags } from '../../cli/schedule-flags';
import type { Via } from '../../schedule';

export default class ScheduleAdd extends BaseCommand {
  static override summary = 'Run a backup job on a schedule (updates it if already scheduled)';
  static override description =
    'Schedules `borg-provision backup run JOB` by the absolute path of this borg-provision. --via defaults to ' +
    'truenas on TrueNAS (a Cron Job in the middleware, kept across upgrades), systemd where systemd runs ' +
    '(systemd-user when not root), else cron. The command is checked first: a missing or non-executable ' +
    'file, or one on a noexec mount, is refused before anything is registered.';

  static override examples = [
    '<%= config.bin %> schedule add nas --daily 02:30',
    '<%= config.bin %> schedule add nas --weekly sun 03:30 --random-delay 10m',
    '<%= config.bin %> schedule add nas --cron "15 */6 * * *" --via cron --dry-run',
  ];

  static override args = { job: Args.string({ description: 'the backup job', required: true }) };

  static override flags = {
    daily: Flags.string({ description: 'every day at HH:MM (24-hour, local time)' }),
    hourly: Flags.boolean({ description: 'every hour, on the hour' }),
    weekly: Flags.string({ description: 'every week on DAY at HH:MM, e.g. --weekly sun 03:30', multiple: true }),
    cron: Flags.string({ description: 'a five-field cron expression "M H DOM MON DOW"' }),
    'random-delay': Flags.string({ description: 'wait up to this long at random before each run, e.g. 10m' }),
    ...scheduleFlags,
  };

  async run(): Promise<Record<string, unknown>> {
    const { args, flags } = await this.parse(ScheduleAdd);
    const { planAdd, applyPlan } = await import('../../schedule');
    const o = { configDir: flags['config-dir'], via: flags.via as Via | undefined };
    const input = {
      daily: flags.daily,
      hourly: flags.hourly,
      weekly: flags.weekly,
      cron: flags.cron,
      randomDelay: flags['random-delay'],
    };
    const plan = await planAdd(args.job, input, o);
    plan.warnings.forEach((w) => this.warnLine(w));
    const dryRun = flags['dry-run'];
    if (!dryRun) await applyPlan(plan, o);
    if (this.jsonEnabled()) return planJson(plan, dryRun);
    if (dryRun) {
      renderActions(plan.actions, (l) => this.log(l));
      if (plan.actions.length === 0) {
        this.log(`job ${plan.job} is already scheduled like this via ${plan.via}: nothing to change`);
      }
    } else {
      const when = plan.when ? whenText(plan.when) : '';
      this.log(`scheduled ${plan.job} via ${plan.via}: ${when}, next run ${plan.when?.nextRun ?? '-'}`);
      this.log(`runs: ${plan.command}`);
    }
    return planJson(plan, dryRun);
  }
}
