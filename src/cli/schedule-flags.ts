// Flags the schedule commands share.
import { Flags } from '@oclif/core';
import type { Via } from '../schedule';

/**
 * The schedulers, as flag options. Written out rather than imported: importing the schedule stage
 * here would load it (and what it uses) on every start of every command. A test keeps it equal to
 * the stage's VIAS.
 */
export const VIA_OPTIONS = ['truenas', 'systemd', 'systemd-user', 'cron'] as const satisfies readonly Via[];

export const scheduleFlags = {
  'config-dir': Flags.string({
    description:
      'where the backup jobs live (default $XDG_CONFIG_HOME/borg-provision); passed on to the scheduled `backup run`',
  }),
  via: Flags.string({ description: 'the scheduler', options: [...VIA_OPTIONS] }),
  'dry-run': Flags.boolean({ description: 'print exactly what would be written or called, and change nothing' }),
};
