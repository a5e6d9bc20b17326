// The pinned key and the signature policy (docs/verification.md). Public API of the verify stage.
export {
  PINNED_FINGERPRINT,
  bundledKeyPath,
  configDir,
  refreshedKeyPath,
  normalizeFingerprint,
  groupFingerprint,
  shortFingerprint,
} from './pinned';
export { loadSigningKey } from './signing-key';
export type { SigningKey, KeySource, LoadSigningKeyOptions } from './signing-key';
export { judgeSignature, verifyDetachedFile } from './verify-file';
export type { JudgedSignature, VerifyOptions, VerifyResult } from './verify-file';
export { describeSigningKey } from './describe';
export type { KeyInfo, SubkeyInfo } from './describe';
export { refreshSigningKey, keyserverUrl, DEFAULT_KEYSERVER } from './refresh';
export type { RefreshOptions, RefreshResult } from './refresh';
