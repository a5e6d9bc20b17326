// The parts of undici we use, loaded from their own modules instead of undici's index.
// WHY: `require('undici')` loads ~110 modules (fetch, WebSocket, EventSource, mocks, cache stores,
// SQLite) and costs ~100 ms of start-up on Node 20, which has no compile cache; these parts need
// ~30 modules and ~40 ms. That is a tenth of a whole small install (bench/install.bench.js).
// The objects are the very ones undici's index exports (test/fetch/undici-lite.test.ts checks
// identity against the installed undici). Should a later undici 7.x move these files (a user's
// install resolves `^7` afresh), the index is loaded instead: slower, never broken.
import type * as Undici from 'undici';

type ApiRequest = (this: Undici.Dispatcher, o: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;

interface Parts {
  Agent: typeof Undici.Agent;
  interceptors: Pick<typeof Undici.interceptors, 'redirect' | 'retry'>;
  /** undici's index adds the request API to Dispatcher.prototype; called with the dispatcher as `this`. */
  apiRequest: ApiRequest;
  /** undici's own URL check (its InvalidArgumentError for a URL that is not http(s)). */
  parseURL: (url: string) => URL;
}

/* eslint-disable @typescript-eslint/no-require-imports */
function ownModules(): Parts {
  return {
    Agent: require('undici/lib/dispatcher/agent'),
    interceptors: { redirect: require('undici/lib/interceptor/redirect'), retry: require('undici/lib/interceptor/retry') },
    apiRequest: require('undici/lib/api/api-request'),
    parseURL: require('undici/lib/core/util').parseURL,
  };
}

function fromIndex(): Parts {
  const undici: typeof Undici = require('undici');
  const parseURL = (url: string): URL => {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new undici.errors.InvalidArgumentError('Invalid URL protocol: the URL must start with `http:` or `https:`.');
    return u;
  };
  return { Agent: undici.Agent, interceptors: undici.interceptors, apiRequest: (undici.Dispatcher.prototype as unknown as { request: ApiRequest }).request, parseURL };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Our parts, or undici's index when they are not where this undici keeps them (or not what we expect). */
export function loadParts(load: () => Parts = ownModules): Parts {
  try {
    const p = load();
    const ok = [p.Agent, p.interceptors.redirect, p.interceptors.retry, p.apiRequest, p.parseURL].every((x) => typeof x === 'function');
    if (ok) return p;
  } catch {
    // moved in this undici release: fall through
  }
  return fromIndex();
}

const parts = loadParts();
export const Agent = parts.Agent;
export const interceptors = parts.interceptors;

export type Dispatcher = Undici.Dispatcher; // types only: `import type` from 'undici' loads nothing
export type ResponseData = Undici.Dispatcher.ResponseData;
export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method?: Undici.Dispatcher.HttpMethod; dispatcher: Dispatcher };

/**
 * undici's `request(url, { dispatcher, ... })` for an absolute http(s) URL. Unlike undici's, the
 * dispatcher is required: there is no global one to fall back to (every call here has its own
 * timeouts and redirect policy).
 */
export function request(url: string, o: RequestOptions): Promise<ResponseData> {
  const u = parts.parseURL(url);
  const { dispatcher, ...rest } = o;
  return parts.apiRequest.call(dispatcher, { ...rest, origin: u.origin, path: `${u.pathname}${u.search}`, method: o.method ?? 'GET' });
}
