import { isRetryableError } from '../../src/net';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

describe('which connection failures are retried', () => {
  it('retries transient failures', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN']) {
      expect([code, isRetryableError(withCode(code))]).toEqual([code, true]);
    }
  });

  it('does not retry "host not found": the answer would be the same ~30 s later', () => {
    expect(isRetryableError(withCode('ENOTFOUND'))).toBe(false);
  });
});
