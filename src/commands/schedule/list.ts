// `borg-provision schedule list`: every scheduled backup job, how and when it runs, its next run.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { renderList } from '../../cli/schedule-render';
import { VIAS, type ListedSchedule, type Via } from '../../schedule';

export default class ScheduleList extends BaseCommand {
  static override summary = 'List scheduled backup jobs: how, when, next run, enabled';
  static override examples = ['<%= config.bin %> schedule list', '<%= config.bin %> schedule list --via cron --json'];
  static override flags = { via: Flags.string({ description: 'only this scheduler', options: [...VIAS] }) };

  async run(): Promise<{ schedules: ListedSchedule[] }> {
    const { flags } = await this.parse(ScheduleList);
    const { listSchedules } = await import('../../schedule');
    const schedules = await listSchedules({ via: flags.via as Via | undefined });
    if (!this.jsonEnabled()) renderList(schedules, (l) => this.log(l));
    return { schedules };
  }
}
