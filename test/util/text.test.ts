import { spawnSync } from 'node:child_process';
import { firstLine, shQuote, shQuoteForDisplay } from '../../src/util/text';

describe('text helpers', () => {
  it('takes the first non-empty line without "Error: "', () => {
    expect(firstLine(new Error('\n  Error: boom\nstack'))).toBe('boom');
    expect(firstLine('')).toBe('');
  });

  it('quotes for sh so that the shell gives back the exact string', () => {
    const nasty = `a b'c"$(x)\`y\``;
    const out = spawnSync('sh', ['-c', `printf %s ${shQuote(nasty)}`], { encoding: 'utf8' }).stdout;
    expect(out).toBe(nasty);
    expect(shQuoteForDisplay('/plain/path-1.2')).toBe('/plain/path-1.2');
    expect(shQuoteForDisplay('has space')).toBe(`'has space'`);
  });
});
