// The GitHub API/network options built from the --api-url flag and the environment
// (src/cli/api-flags.ts declares the flag for oclif).
// GITHUB_TOKEN, when set and not empty, becomes the bearer token (never printed); BORG_PROVISION_NET
// tunes timeouts and retries (the net stage). A --api-url that is not an http(s) URL is
// a UsageError (exit 2).
import { UsageError } from '../errors';
import type { NetOptions } from '../net';

export const DEFAULT_API_URL = 'https://api.github.com';

export interface ApiFlagOptions {
  apiUrl: string;
  token: string | undefined;
  signal: AbortSignal | undefined;
  net: NetOptions;
}

export async function apiOptionsFromFlags(
  flags: { 'api-url'?: string },
  signal?: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ApiFlagOptions> {
  const apiUrl = flags['api-url'] ?? DEFAULT_API_URL;
  let url: URL | null = null;
  try {
    url = new URL(apiUrl);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--api-url ${apiUrl} is not an http(s) URL, e.g. ${DEFAULT_API_URL}`);
  }
  const { netOptionsFromEnv } = await import('../net');
  return { apiUrl, token: env.GITHUB_TOKEN || undefined, signal, net: netOptionsFromEnv(env) };
}
