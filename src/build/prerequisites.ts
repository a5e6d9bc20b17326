// Checks what a Vagrant build needs on this machine before anything is downloaded or started,
// and names every missing piece with the way to get it, in one line.
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { BuildError } from '../errors';
import { firstLine } from '../util/text';
import type { Provider } from './plan';
import { withoutGithubCredentials } from './runner';

export const LIBVIRT_URI = 'qemu:///system';
const LIBVIRT_SOCKETS = ['/run/libvirt/libvirt-sock', '/var/run/libvirt/libvirt-sock'];

interface ExecResult {
  ok: boolean;
  notFound: boolean;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 60000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: withoutGithubCredentials() },
      (err, stdout, stderr) => {
        const code = (err as NodeJS.ErrnoException | null)?.code;
        resolve({ ok: !err, notFound: code === 'ENOENT', stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export interface PrerequisiteReport {
  vagrant: string | null;
  plugin: string | null;
  providerReachable: boolean;
  missing: string[];
}

/** Looks at everything and reports all that is missing; `requirePrerequisites` turns that into an error. */
export async function checkPrerequisites(provider: Provider): Promise<PrerequisiteReport> {
  const missing: string[] = [];
  const version = await run('vagrant', ['--version']);
  if (!version.ok) {
    missing.push(
      version.notFound
        ? 'vagrant is not on PATH (Debian/Ubuntu: sudo apt install vagrant)'
        : `vagrant --version failed: ${firstLine(version.stderr || version.stdout)}`,
    );
    // Without vagrant there is no plugin list to read; still report the provider's state.
  }
  const plugin = version.ok ? await providerPlugin(provider, missing) : null;
  const reachable = provider === 'libvirt' ? await libvirtReachable(missing) : await virtualboxPresent(missing);
  return {
    vagrant: version.ok ? firstLine(version.stdout) : null,
    plugin,
    providerReachable: reachable,
    missing,
  };
}

export async function requirePrerequisites(provider: Provider): Promise<PrerequisiteReport> {
  const report = await checkPrerequisites(provider);
  if (report.missing.length > 0) {
    throw new BuildError(`cannot build with Vagrant: ${report.missing.join('; ')}`);
  }
  return report;
}

// VirtualBox support is built into vagrant; libvirt is a plugin. Debian's vagrant-libvirt package
// installs it as a "system" plugin, which `vagrant plugin list` shows as "(0.11.2, system)".
async function providerPlugin(provider: Provider, missing: string[]): Promise<string | null> {
  if (provider === 'virtualbox') return 'builtin';
  const list = await run('vagrant', ['plugin', 'list']);
  const line = list.stdout.split('\n').find((l) => /^vagrant-libvirt\s*\(/.test(l.trim()));
  if (!line) {
    missing.push(
      'the vagrant-libvirt plugin is missing (Debian/Ubuntu: sudo apt install vagrant-libvirt; elsewhere: vagrant plugin install vagrant-libvirt)',
    );
    return null;
  }
  return line.trim();
}

async function libvirtReachable(missing: string[]): Promise<boolean> {
  const virsh = await run('virsh', ['-c', LIBVIRT_URI, 'version'], 20000);
  if (virsh.ok) return true;
  if (!virsh.notFound) {
    missing.push(
      `libvirt at ${LIBVIRT_URI} is not reachable (${firstLine(virsh.stderr) || 'virsh failed'}): ` +
        'start it (sudo systemctl start libvirtd) and join the libvirt group (sudo adduser $USER libvirt, then log in again)',
    );
    return false;
  }
  // No virsh: try the daemon's socket directly.
  for (const socket of LIBVIRT_SOCKETS) {
    const result = await connectUnix(socket);
    if (result === 'ok') return true;
    if (result === 'denied') {
      missing.push(
        `no permission to use libvirt (${socket}): join the libvirt group (sudo adduser $USER libvirt, then log in again)`,
      );
      return false;
    }
  }
  missing.push(
    'libvirt is not running or not installed (Debian/Ubuntu: sudo apt install libvirt-daemon-system libvirt-clients)',
  );
  return false;
}

function connectUnix(socketPath: string): Promise<'ok' | 'denied' | 'absent'> {
  return new Promise((resolve) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve('ok');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EACCES' ? 'denied' : 'absent'));
  });
}

async function virtualboxPresent(missing: string[]): Promise<boolean> {
  const vbox = await run('VBoxManage', ['--version'], 20000);
  if (vbox.ok) return true;
  missing.push(
    vbox.notFound
      ? 'VirtualBox is not installed (VBoxManage is not on PATH): install it from virtualbox.org, or use the default --provider libvirt'
      : `VBoxManage --version failed: ${firstLine(vbox.stderr || vbox.stdout)}`,
  );
  return false;
}
