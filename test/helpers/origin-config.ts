// The config.yaml of the origin document's runner, exactly as that document has it: read by the
// unit tests of its format and run as a job over ssh by the e2e test.
export const ORIGIN_CONFIG = [
  'backup:',
  '  - $HOME/backup_scripts/',
  "target: 'ssh://server/./subdir'",
  'options:',
  "  backup: '-C lzma,9'",
  "  cleanup: '--lock-wait 60'",
  'cleanup:',
  '  daily: 7',
  '  weekly: 4',
  '  monthly: 6',
  '  yearly: 2',
  'tries:',
  '  backup: 3',
  '  cleanup: 3',
  '',
].join('\n');
