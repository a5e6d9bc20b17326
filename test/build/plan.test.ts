// Pure decisions of the build stage: Debian release per target, toolchain per series, the plan's
// refusals, Ruby escaping of the Vagrantfile, and the VM's build-info.
import { parseBuildInfo } from '../../src/build/artifact';
import { debianForGlibc, parseDebianRelease, DEBIAN } from '../../src/build/debian';
import { makePlan } from '../../src/build/plan';
import { toolchainFor } from '../../src/build/series';
import { renderVagrantfile, rubyString } from '../../src/build/vagrantfile';
import { BuildError, NoCompatibleBuildError, UnsupportedTargetError, UsageError } from '../../src/errors';

describe('Debian release for a target', () => {
  test.each([
    ['2.31', 'bullseye'], // TrueNAS 22.x
    ['2.36', 'bookworm'], // TrueNAS 23.10 .. 25.10, including 25.04 Fangtooth
    ['2.41', 'trixie'], // TrueNAS 26.04
    ['2.35', 'bullseye'], // between releases: the older one, whose build runs there
    ['2.42', 'trixie'],
  ])('glibc %s -> %s', (glibc, debian) => {
    expect(debianForGlibc(glibc)).toBe(debian);
  });

  test('a glibc older than bullseye cannot be served (exit 3)', () => {
    expect(() => debianForGlibc('2.28')).toThrow(UnsupportedTargetError);
    expect(() => debianForGlibc('2.28')).toThrow(/older than any Debian release/);
  });

  test('release names and numbers; boxes are the official Debian ones', () => {
    expect(parseDebianRelease('12')).toBe('bookworm');
    expect(parseDebianRelease('Trixie')).toBe('trixie');
    expect(() => parseDebianRelease('buster')).toThrow(UsageError);
    expect(Object.values(DEBIAN).map((d) => d.box)).toEqual([
      'debian/bullseye64',
      'debian/bookworm64',
      'debian/trixie64',
    ]);
  });
});

describe('toolchain per borg series', () => {
  test.each([
    ['1.2.9', '3.9', '4.10'],
    ['1.4.2', '3.11', '6.7.0'],
    ['v1.4.0rc1', '3.11', '6.7.0'],
    ['2.0.0b22', '3.13', '6.11.1'],
  ])('%s builds with Python %s and PyInstaller %s', (v, py, pyi) => {
    const t = toolchainFor(v);
    expect([t.python, t.pyinstaller]).toEqual([py, pyi]);
  });

  test('other series and non-versions are refused', () => {
    expect(() => toolchainFor('1.1.18')).toThrow(NoCompatibleBuildError);
    expect(() => toolchainFor('latest')).toThrow(UsageError);
  });
});

describe('plan', () => {
  const base = { version: '1.4.2', debian: 'bookworm' as const, arch: 'x86_64' };

  test('defaults: libvirt, 2 CPUs, 4 GiB, no tests, official box', () => {
    expect(makePlan(base)).toMatchObject({
      provider: 'libvirt',
      cpus: 2,
      memoryMiB: 4096,
      withTests: false,
      box: 'debian/bookworm64',
      sdistName: 'borgbackup-1.4.2.tar.gz',
    });
  });

  test('arm64 needs libvirt and a box; other arches are refused (exit 3)', () => {
    expect(() => makePlan({ ...base, arch: 'arm64' })).toThrow(/arm64 libvirt box \(--box NAME\)/);
    expect(() => makePlan({ ...base, arch: 'arm64', provider: 'virtualbox', box: 'x/y' })).toThrow(
      UnsupportedTargetError,
    );
    expect(() => makePlan({ ...base, arch: 'i386' })).toThrow(UnsupportedTargetError);
    expect(makePlan({ ...base, arch: 'arm64', box: 'me/debian12-arm64' }).arch).toBe('arm64');
  });

  test("an --arch other than the target's own is refused before anything starts (exit 3)", () => {
    const err = (() => {
      try {
        makePlan({ ...base, arch: 'arm64', box: 'me/debian12-arm64', targetArch: 'x86_64' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(UnsupportedTargetError);
    expect((err as UnsupportedTargetError).exitCode).toBe(3);
    expect((err as Error).message).toBe(
      'an arm64 build cannot run on this target: its libc is built for x86_64; drop --arch, or point --libc/--root at an arm64 system',
    );
    expect(makePlan({ ...base, arch: 'x86_64', targetArch: 'x86_64' }).arch).toBe('x86_64');
    expect(makePlan({ ...base, arch: 'arm64', box: 'me/arm', targetArch: 'arm64' }).arch).toBe('arm64');
  });

  test('bad sizes and providers are usage errors', () => {
    expect(() => makePlan({ ...base, cpus: 0 })).toThrow(UsageError);
    expect(() => makePlan({ ...base, memoryMiB: 512 })).toThrow(/--memory must be/);
    expect(() => makePlan({ ...base, provider: 'docker' })).toThrow(UsageError);
  });
});

describe('Vagrantfile rendering', () => {
  test('Ruby single-quoted literals escape backslash and quote; control characters are refused', () => {
    expect(rubyString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(rubyString('#{system("x")}')).toBe(`'#{system("x")}'`); // no interpolation in single quotes
    expect(() => rubyString('a\nb')).toThrow(TypeError);
  });

  test('values reach the provisioner env; arm64 gets an aarch64 machine', () => {
    const vf = renderVagrantfile(
      makePlan({ version: '1.2.9', debian: 'bullseye', arch: 'arm64', box: 'me/arm' }),
      'input/borgbackup-1.2.9.tar.gz',
    );
    expect(vf).toContain("config.vm.box = 'me/arm'");
    expect(vf).toContain("'PYINSTALLER_VERSION' => '4.10'");
    expect(vf).toContain("lv.machine_arch = 'aarch64'");
    expect(vf).toContain("synced_folder '.', '/vagrant', disabled: true");
  });
});

describe('build-info from the VM', () => {
  const good =
    'sha256=' +
    'a'.repeat(64) +
    '\nborg=borg.exe 1.4.2\nglibc=2.36\ndebian=12.9\narch=x86_64\npython=3.11.2\npyinstaller=6.7.0\nfuse=llfuse\n';

  test('parses key=value lines', () => {
    expect(parseBuildInfo(good)).toMatchObject({ glibc: '2.36', python: '3.11.2', pyinstaller: '6.7.0' });
  });

  test('incomplete or malformed info is a build failure', () => {
    expect(() => parseBuildInfo(good.replace(/python=.*\n/, ''))).toThrow(BuildError);
    expect(() => parseBuildInfo(good.replace('a'.repeat(64), 'zz'))).toThrow(/malformed SHA-256/);
  });
});
