// Every command, by id: oclif's explicit command strategy reads this map, so no directory is
// searched at run time (and the single executable, which has no files, works the same way).
// test/e2e/commands-index.test.ts keeps it equal to the files in this folder.
import BackupBorg from './backup/borg';
import BackupInit from './backup/init';
import BackupList from './backup/list';
import BackupRun from './backup/run';
import BackupShell from './backup/shell';
import BackupShow from './backup/show';
import BackupStatus from './backup/status';
import Build from './build';
import CacheClean from './cache/clean';
import CacheList from './cache/list';
import Detect from './detect';
import Help from './help';
import Install from './install';
import KeyRefresh from './key/refresh';
import KeyShow from './key/show';
import List from './list';
import Releases from './releases';
import ScheduleAdd from './schedule/add';
import ScheduleList from './schedule/list';
import ScheduleRemove from './schedule/remove';
import SelfInstall from './self-install';
import Uninstall from './uninstall';
import Use from './use';

export const COMMANDS = {
  'backup:borg': BackupBorg,
  'backup:init': BackupInit,
  'backup:list': BackupList,
  'backup:run': BackupRun,
  'backup:shell': BackupShell,
  'backup:show': BackupShow,
  'backup:status': BackupStatus,
  build: Build,
  'cache:clean': CacheClean,
  'cache:list': CacheList,
  detect: Detect,
  help: Help,
  install: Install,
  'key:refresh': KeyRefresh,
  'key:show': KeyShow,
  list: List,
  releases: Releases,
  'schedule:add': ScheduleAdd,
  'schedule:list': ScheduleList,
  'schedule:remove': ScheduleRemove,
  'self-install': SelfInstall,
  uninstall: Uninstall,
  use: Use,
};
