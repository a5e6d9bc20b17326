// The two systemd units of a scheduled job: borg-provision-JOB.service runs one backup at low
// CPU and I/O priority; borg-provision-JOB.timer starts it. The system service carries the
// hardening of borgmatic's sample service that still lets borg read every source and write its
// repository, cache and state: no MemoryDenyWriteExecute (Node's JIT needs W+X memory), no
// PrivateDevices or CapabilityBoundingSet (snapshots, --read-special and repositories owned by
// others), no SystemCallFilter. A user service gets only what needs no user namespace (systemd
// turns PrivateUsers= on for the rest in a user manager), and no network-online.target (a user
// manager has none).
import { onCalendar } from '../calendar';
import { systemdLine } from '../command-line';
import type { Schedule } from '../model';

export const unitBase = (job: string): string => `borg-provision-${job}`;

const HARDENING_SYSTEM = [
  'LockPersonality=true',
  'NoNewPrivileges=true',
  'PrivateTmp=true',
  'ProtectClock=true',
  'ProtectControlGroups=true',
  'ProtectHostname=true',
  'ProtectKernelLogs=true',
  'ProtectKernelModules=true',
  'ProtectKernelTunables=true',
  'ProtectSystem=full',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
  'RestrictNamespaces=true',
  'RestrictRealtime=true',
  'RestrictSUIDSGID=true',
  'SystemCallArchitectures=native',
];

const HARDENING_USER = [
  'LockPersonality=true',
  'NoNewPrivileges=true',
  'RestrictRealtime=true',
  'RestrictSUIDSGID=true',
  'SystemCallArchitectures=native',
];

const HEADER = (job: string): string =>
  `# Written by \`borg-provision schedule add ${job}\`; \`borg-provision schedule remove ${job}\` removes it.`;

export function serviceUnit(job: string, argv: string[], user: boolean): string {
  return [
    HEADER(job),
    '[Unit]',
    `Description=borg-provision backup ${job}`,
    ...(user ? [] : ['Wants=network-online.target', 'After=network-online.target']),
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${systemdLine(argv)}`,
    'Nice=19',
    'CPUSchedulingPolicy=batch',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    ...(user ? HARDENING_USER : HARDENING_SYSTEM),
    '',
  ].join('\n');
}

/** The comment in the timer that keeps the cron expression it was made from (for `schedule list`). */
export const CRON_MARK = '# borg-provision cron: ';

export function timerUnit(job: string, schedule: Schedule): string {
  return [
    HEADER(job),
    `${CRON_MARK}${schedule.cron.text}`,
    '[Unit]',
    `Description=Run borg-provision backup ${job} on schedule`,
    '',
    '[Timer]',
    ...onCalendar(schedule.cron).map((c) => `OnCalendar=${c}`),
    'Persistent=true',
    ...(schedule.randomDelaySec > 0 ? [`RandomizedDelaySec=${schedule.randomDelaySec}`] : []),
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** The cron expression and random delay a timer we wrote holds; null for a timer that is not ours. */
export function readTimer(text: string): { cron: string; randomDelaySec: number } | null {
  const line = text.split('\n').find((l) => l.startsWith(CRON_MARK));
  if (!line) return null;
  const delay = /^RandomizedDelaySec=(\d+)$/m.exec(text);
  return { cron: line.slice(CRON_MARK.length).trim(), randomDelaySec: delay ? Number(delay[1]) : 0 };
}

export function readExecStart(text: string): string {
  return /^ExecStart=(.*)$/m.exec(text)?.[1] ?? '';
}
