#!/usr/bin/env node
// Stand-in for `vagrant` (and `virsh`, when called by that name) in build tests: there is no VM
// here. It records every call, and emulates what the real tools do as seen from the host:
//   vagrant --version | plugin list | up | ssh --no-tty -c 'cat FILE' | destroy -f | validate
//   virsh -c URI version
// `up` checks the Vagrantfile and its upload sources, "uploads" them into a fake VM home
// (<cwd>/.vagrant/fake-vm = /home/vagrant), prints the provisioning script's step markers with
// vagrant's "    default: " prefix, and packs FAKE_VAGRANT_BORG_DIR/borg-dir with GNU tar into
// the VM's out/borg-dir.tgz plus build-info, as vagrant/provision.sh does.
// Failures on demand: FAKE_VAGRANT_FAIL = up | step:<name> | missing-artifact | corrupt | hang |
// no-plugin | destroy, and FAKE_VIRSH_FAIL=1.
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// The wrappers made by fake-vagrant.ts say which tool they stand for.
const tool = process.env.FAKE_TOOL || path.basename(process.argv[1]);
const args = process.argv.slice(2);
const fail = process.env.FAKE_VAGRANT_FAIL || '';
const STEPS = [
  'packages',
  'python',
  'venv',
  'unpack sdist',
  'install borg',
  'install pyinstaller',
  'build binary',
  'check binary',
  'package',
  'done',
];

if (process.env.FAKE_VAGRANT_LOG) {
  fs.appendFileSync(process.env.FAKE_VAGRANT_LOG, `${JSON.stringify({ tool, args, cwd: process.cwd() })}\n`);
}

const vmHome = path.join(process.cwd(), '.vagrant', 'fake-vm');
const say = (line) => process.stdout.write(`${line}\n`);
const die = (msg, code = 1) => {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
};

function virsh() {
  if (process.env.FAKE_VIRSH_FAIL)
    die(
      "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied",
    );
  say(
    'Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0',
  );
}

function up() {
  const vf = path.join(process.cwd(), 'Vagrantfile');
  if (!fs.existsSync(vf)) die('A Vagrant environment or target machine is required to run this command.');
  const text = fs.readFileSync(vf, 'utf8');
  const provider = args[args.indexOf('--provider') + 1];
  say(`Bringing machine 'default' up with '${provider}' provider...`);
  if (fail === 'up')
    die("The box 'debian/bookworm64' could not be found or could not be accessed in the remote catalog.");
  fs.mkdirSync(vmHome, { recursive: true });
  // file provisioners: the source must exist on the host; it lands at destination in the VM.
  for (const m of text.matchAll(/type: 'file', source: '([^']+)', destination: '\/home\/vagrant\/([^']+)'/g)) {
    const src = path.resolve(process.cwd(), m[1]);
    if (!fs.existsSync(src)) die(`File upload source file ${src} must exist`);
    say(`==> default: Running provisioner: file...`);
    fs.copyFileSync(src, path.join(vmHome, m[2]));
  }
  say('==> default: Running provisioner: build (shell)...');
  const steps = /'WITH_TESTS' => '1'/.test(text) ? [...STEPS.slice(0, 8), 'run tests', ...STEPS.slice(8)] : STEPS;
  for (const step of steps) {
    say(`    default: ==> borg-provision step: ${step}`);
    if (fail === `step:${step}`) {
      process.stderr.write(`    default: ==> borg-provision error: ${step} went wrong\n`);
      die(
        'The SSH command responded with a non-zero exit status. Vagrant\nassumes that this means the command failed.',
      );
    }
    if (fail === 'hang' && step === 'install borg') {
      // Real vagrant traps SIGINT, cleans up and exits; a second SIGINT would force it out.
      let interrupts = 0;
      process.on('SIGINT', () => {
        interrupts += 1;
        if (process.env.FAKE_VAGRANT_LOG)
          fs.appendFileSync(
            process.env.FAKE_VAGRANT_LOG,
            `${JSON.stringify({ tool, args: ['<SIGINT>', String(interrupts)], cwd: process.cwd() })}\n`,
          );
        say('==> default: Waiting for cleanup before exiting...');
        setTimeout(() => die('Vagrant exited after cleanup due to external interrupt.', 1), 200);
      });
      setInterval(() => undefined, 1000);
      return;
    }
    if (step === 'package') pack(text);
  }
}

function pack(vagrantfile) {
  const out = path.join(vmHome, 'borg-build', 'out');
  fs.mkdirSync(out, { recursive: true });
  const tgz = path.join(out, 'borg-dir.tgz');
  execFileSync('tar', ['-C', process.env.FAKE_VAGRANT_BORG_DIR, '-czf', tgz, 'borg-dir']);
  const sha = crypto.createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
  if (fail === 'corrupt') fs.appendFileSync(tgz, 'x');
  if (fail === 'missing-artifact') fs.rmSync(tgz);
  const version = /'BORG_VERSION' => '([^']+)'/.exec(vagrantfile)[1];
  const python = /'PYTHON_SERIES' => '([^']+)'/.exec(vagrantfile)[1];
  const pyinstaller = /'PYINSTALLER_VERSION' => '([^']+)'/.exec(vagrantfile)[1];
  const glibc = process.env.FAKE_VAGRANT_GLIBC || '2.36';
  fs.writeFileSync(
    path.join(out, 'build-info'),
    [
      `sha256=${sha}`,
      `borg=borg.exe ${version}`,
      `glibc=${glibc}`,
      'debian=12.9',
      'arch=x86_64',
      `python=${python}.2`,
      `pyinstaller=${pyinstaller}`,
      'fuse=llfuse',
      '',
    ].join('\n'),
  );
}

function ssh() {
  if (!fs.existsSync(vmHome)) die('VM must be created before running this command. Run `vagrant up` first.');
  if (!args.includes('--no-tty')) die('fake vagrant: ssh -c without --no-tty would mangle binary output', 2);
  const cmd = args[args.indexOf('-c') + 1];
  const m = /^cat (\/home\/vagrant\/\S+)$/.exec(cmd);
  if (!m) die(`fake vagrant: unsupported ssh command: ${cmd}`, 2);
  const file = path.join(vmHome, m[1].slice('/home/vagrant/'.length));
  if (!fs.existsSync(file)) die(`cat: ${m[1]}: No such file or directory`);
  process.stdout.write(fs.readFileSync(file));
}

function vagrant() {
  switch (args[0]) {
    case '--version':
      return say('Vagrant 2.3.4');
    case 'plugin':
      return say(fail === 'no-plugin' ? 'No plugins installed.' : 'vagrant-libvirt (0.11.2, system)');
    case 'up':
      return up();
    case 'ssh':
      return ssh();
    case 'destroy':
      if (fail === 'destroy')
        die("An action 'destroy' was attempted on the machine, but another process is already executing an action");
      fs.rmSync(vmHome, { recursive: true, force: true });
      return say('==> default: Removing domain...');
    default:
      return die(`fake vagrant: unsupported command ${args.join(' ')}`, 2);
  }
}

if (tool === 'virsh') virsh();
else vagrant();
