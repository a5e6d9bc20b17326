export * from './types';
export { cacheDir } from './cache-dir';
export { download, cacheSubdir, normalizeSha256, removeDownload } from './download';
export { downloadWithSignature, type WithSignatureOptions } from './with-signature';
export { listCache, cleanCache, type CacheListing, type CachedRelease, type CleanResult } from './cache-contents';
