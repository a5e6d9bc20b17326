// `borg-provision schedule list`: every scheduled backup job, how and when it runs, its next run.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { renderList } from '../../cli/schedule-render';
import type { ListedSchedule, Via } from '../../schedule';
import { VIA_OPTIONS } from '../../cli/schedule-flags';

export default class ScheduleList extends BaseCommand {
  static override summary = 'List scheduled backup jobs: how, when, next run, enabled';
  static override examples = ['<%= config.bin %> schedule list', '<%= config.bin %> schedule list --via cron --json'];
  static override flags = { via: Flags.string({ description: 'only this scheduler', options: [...VIA_OPTIONS] }) };

  async run(): Promise<{ schedules: ListedSchedule[] }> {
    const { flags } = await this.parse(ScheduleList);
    const { listSchedules } = await import('../../schedule');
    const schedules = await listSchedules({ via: flags.via as Via | undefined });
    if (!this.jsonEnabled()) renderList(schedules, (l) => this.log(l));
    return { schedules };
  }
}
