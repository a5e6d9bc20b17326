// The parts of undici we use, loaded from their own modules instead of undici's index.
// WHY: `require('undici')` loads ~110 modules (fetch, WebSocket, EventSource, mocks, cache stores,
// SQLite) and costs ~100 ms of start-up on Node 20, which has no compile cache; these four need
// ~35 modules and ~40 ms. That is a tenth of a whole small install (bench/install.bench.js).
// The objects are the very ones undici's index exports (test/fetch/undici-lite.test.ts checks
// identity against the installed undici, so an upgrade that moves a file fails the tests, not users).
import type * as Undici from 'undici';

/* eslint-disable @typescript-eslint/no-require-imports */
export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent');
export const interceptors: Pick<typeof Undici.interceptors, 'redirect' | 'retry'> = {
  redirect: require('undici/lib/interceptor/redirect'),
  retry: require('undici/lib/interceptor/retry'),
};
// undici's index adds the request API to Dispatcher.prototype; called with the dispatcher as `this`.
const apiRequest: (this: Undici.Dispatcher, o: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData> = require('undici/lib/api/api-request');
// undici's own URL check (throws its InvalidArgumentError for a URL that is not http(s)).
const { parseURL }: { parseURL: (url: string) => URL } = require('undici/lib/core/util');
/* eslint-enable @typescript-eslint/no-require-imports */

export type Dispatcher = Undici.Dispatcher; // types only: `import type` from 'undici' loads nothing
export type ResponseData = Undici.Dispatcher.ResponseData;
export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method?: Undici.Dispatcher.HttpMethod; dispatcher: Dispatcher };

/**
 * undici's `request(url, { dispatcher, ... })` for an absolute http(s) URL. Unlike undici's, the
 * dispatcher is required: there is no global one to fall back to (every call here has its own
 * timeouts and redirect policy).
 */
export function request(url: string, o: RequestOptions): Promise<ResponseData> {
  const u = parseURL(url);
  const { dispatcher, ...rest } = o;
  return apiRequest.call(dispatcher, { ...rest, origin: u.origin, path: `${u.pathname}${u.search}`, method: o.method ?? 'GET' });
}
