// SHA-256 of a file, streamed: archives are 30-300 MB and must never be read into memory whole.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigest {
  sha256: string;
  size: number;
}

/** Lower-case hex SHA-256 and byte count; rejects with the stream's error (ENOENT, abort, ...). */
export async function sha256File(file: string, signal?: AbortSignal): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { signal })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
