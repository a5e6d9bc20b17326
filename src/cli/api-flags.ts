// The GitHub API flag every networked command shares, and the API/network options built from it
// and the environment. API (for commands):
//   import { apiFlags, apiOptionsFromFlags } from '../cli/api-flags';
//   static override flags = { ...apiFlags, ... }                 // --api-url (default shown in --help)
//   const api = await apiOptionsFromFlags(flags, this.signal);        // { apiUrl, token, signal, net }
// GITHUB_TOKEN, when set and not empty, becomes the bearer token (never printed); BORG_PROVISION_NET
// tunes timeouts and retries (the net stage). A --api-url that is not an http(s) URL is
// a UsageError (exit 2).
import { Flags } from '@oclif/core';
import { DEFAULT_API_URL } from './api-options';

export { DEFAULT_API_URL, apiOptionsFromFlags, type ApiFlagOptions } from './api-options';

export const apiFlags = {
  'api-url': Flags.string({
    description: 'GitHub API base URL (a mirror or GitHub Enterprise); GITHUB_TOKEN, when set, is sent to it',
    default: DEFAULT_API_URL,
    helpValue: 'URL',
  }),
};
