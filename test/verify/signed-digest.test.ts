// SignedDigest: hash(file || suffix) whatever the chunks, as openpgp.js would hash it.
import { createHash } from 'node:crypto';
import { SignedDigest } from '../../src/verify/signed-digest';

const file = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
const suffix = Uint8Array.from([4, 0xff, 0, 0, 0, 9]);

test('the digest is of the file then the suffix, however the file is cut into chunks', () => {
  const expected = createHash('sha512').update(Buffer.concat([file, suffix])).digest();
  for (const piece of [1, 4096, 65_536, file.length]) {
    const d = new SignedDigest({ hash: 'sha512', suffix });
    for (let at = 0; at < file.length; at += piece) d.update(file.subarray(at, at + piece));
    expect(d.bytes).toBe(file.length);
    expect(Buffer.from(d.digest())).toEqual(expected);
  }
});

test('another algorithm, another digest; an empty file is the suffix alone', () => {
  const d = new SignedDigest({ hash: 'sha256', suffix });
  expect(Buffer.from(d.digest())).toEqual(createHash('sha256').update(suffix).digest());
  expect(d.bytes).toBe(0);
});
