// The GitHub API flag every networked command shares, and the API/network options built from it
// and the environment. API (for commands; `install` should adopt it too):
//   import { apiFlags, apiOptionsFromFlags } from '../cli/api-flags';
//   static override flags = { ...apiFlags, ... }                 // --api-url (default shown in --help)
//   const api = apiOptionsFromFlags(flags, this.signal);         // { apiUrl, token, signal, net }
// GITHUB_TOKEN, when set and not empty, becomes the bearer token (never printed); BORG_PROVISION_NET
// tunes timeouts and retries (src/fetch/net-options.ts). A --api-url that is not an http(s) URL is
// a UsageError (exit 2).
import { Flags } from '@oclif/core';
import { UsageError } from '../errors';
import { netOptionsFromEnv, type NetOptions } from '../fetch/net-options';

export const DEFAULT_API_URL = 'https://api.github.com';

export const apiFlags = {
  'api-url': Flags.string({
    description: 'GitHub API base URL (a mirror or GitHub Enterprise); GITHUB_TOKEN, when set, is sent to it',
    default: DEFAULT_API_URL,
    helpValue: 'URL',
  }),
};

export interface ApiFlagOptions {
  apiUrl: string;
  token: string | undefined;
  signal: AbortSignal | undefined;
  net: NetOptions;
}

export function apiOptionsFromFlags(flags: { 'api-url'?: string }, signal?: AbortSignal, env: NodeJS.ProcessEnv = process.env): ApiFlagOptions {
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
  return { apiUrl, token: env.GITHUB_TOKEN || undefined, signal, net: netOptionsFromEnv(env) };
}
