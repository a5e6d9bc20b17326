// HTTP set-up shared by the stages that talk to servers (releases, fetch, verify's key refresh):
// dispatchers with our timeouts and redirect policy, network tuning, and plain causes for errors.
export {
  USER_AGENT,
  describeCause,
  errorCode,
  header,
  isDowngrade,
  isRetryableError,
  openHttp,
  mayCarryToken,
  sleep,
} from './http';
export { DEFAULT_NET, backoffMs, netOptionsFromEnv, resolveNet, retryAfterMs } from './options';
export type { NetOptions, ResolvedNetOptions } from './options';
export type { HttpClient } from './http';
