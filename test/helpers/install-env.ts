// The environment an install test runs in, one per test file: the borg fixtures, a throw-away user
// (install-sandbox.ts), GnuPG test keys and, unless told otherwise, the GitHub stand-in on
// 127.0.0.1. `useInstallEnv()` makes it all in a beforeAll and removes it all in an afterAll; the
// test file's own beforeAll (registered after the call) runs once it is there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { BorgFixtures } from './borg-fixture';
import { startGithubServer, type FakeAsset, type GithubServer, type ReleaseOptions } from './github-server';
import { makeKeys, makeSandbox, type Keys, type Sandbox } from './install-sandbox';

/** The one-dir build for glibc 2.31 on x86_64, under the name borg's releases give it. */
export const ASSET = 'borg-linux-glibc231-x86_64.tgz';

export interface InstallEnvOptions {
  /** Start the GitHub stand-in (default true). */
  github?: boolean;
  /** Where the sandbox goes (default the temp dir; a test that mounts over /tmp puts it elsewhere). */
  base?: string;
}

export interface PublishOptions extends ReleaseOptions {
  /** The signature to publish; default: the mirror key's signature of the archive. */
  asc?: Buffer;
  /** More assets of the release, after the archive and its .asc. */
  extra?: FakeAsset[];
}

export interface InstallEnv {
  readonly fx: BorgFixtures;
  readonly sb: Sandbox;
  readonly keys: Keys;
  /** The GitHub stand-in (an error to ask for with `github: false`). */
  readonly gh: GithubServer;
  /** `--api-url` of the stand-in and the flags that make the mirror key the trusted one. */
  api(): string[];
  /** Publishes `tgz` as ASSET with its signature under `tag`; returns the tag. */
  publish(tag: string, tgz: string, o?: PublishOptions): Promise<string>;
}

interface Parts {
  fx: BorgFixtures;
  sb: Sandbox;
  keys: Keys;
  gh: GithubServer;
}

export function useInstallEnv(o: InstallEnvOptions = {}): InstallEnv {
  // Filled in step by step, so that an afterAll after a failed beforeAll removes what was made.
  let parts: Partial<Parts> = {};
  let ready = false;
  const part = <K extends keyof Parts>(name: K): Parts[K] => {
    const value = parts[name];
    if (value !== undefined) return value;
    if (!ready) throw new Error('the install environment is made in beforeAll: use it inside a test or a hook');
    throw new Error(`this install environment has no ${name} (github: false)`);
  };
  const env: InstallEnv = {
    get fx() {
      return part('fx');
    },
    get sb() {
      return part('sb');
    },
    get keys() {
      return part('keys');
    },
    get gh() {
      return part('gh');
    },
    api: () => ['--api-url', env.gh.apiUrl, ...env.keys.keyFlags],
    async publish(tag, tgz, { asc, extra = [], ...release } = {}) {
      const signature = asc ?? fs.readFileSync(await env.keys.sign(tgz));
      env.gh.addRelease(
        tag,
        [{ name: ASSET, body: fs.readFileSync(tgz) }, { name: `${ASSET}.asc`, body: signature }, ...extra],
        release,
      );
      return tag;
    },
  };
  beforeAll(async () => {
    parts.fx = new BorgFixtures();
    parts.sb = makeSandbox(o.base ?? os.tmpdir());
    parts.keys = await makeKeys(parts.sb.root);
    if (o.github !== false) parts.gh = await startGithubServer();
    ready = true;
  });
  afterAll(async () => {
    const { fx, sb, keys, gh } = parts;
    parts = {};
    ready = false;
    await gh?.close();
    await keys?.home.cleanup();
    fx?.cleanup();
    sb?.cleanup();
  });
  return env;
}
