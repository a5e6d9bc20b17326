// Flags the schedule commands share.
import { Flags } from '@oclif/core';
import { VIAS } from '../schedule';

export const scheduleFlags = {
  'config-dir': Flags.string({
    description:
      'where the backup jobs live (default $XDG_CONFIG_HOME/borg-provision); passed on to the scheduled `backup run`',
  }),
  via: Flags.string({ description: 'the scheduler', options: [...VIAS] }),
  'dry-run': Flags.boolean({ description: 'print exactly what would be written or called, and change nothing' }),
};
