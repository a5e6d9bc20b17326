// src/fetch/undici-lite.ts loads undici's parts from their own files to save start-up time. These
// tests pin that the parts are the very objects undici's public index exports, so an undici
// upgrade that moves or changes them fails here, and that its request() behaves as undici's does.
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import * as lite from '../../src/fetch/undici-lite';

describe('undici-lite', () => {
  it('hands out the objects undici itself exports', () => {
    expect(lite.Agent).toBe(undici.Agent);
    expect(lite.interceptors.redirect).toBe(undici.interceptors.redirect);
    expect(lite.interceptors.retry).toBe(undici.interceptors.retry);
    // The index turns api-request into Dispatcher.prototype.request; ours calls that same function.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(require('undici/lib/api/api-request')).toBe((undici.Dispatcher.prototype as unknown as { request: unknown }).request);
  });

  it('does not load undici\'s index (the point of it)', () => {
    // In a clean Node process (jest's registry is not Node's): the built module, as the CLI loads it.
    const probe = `require(${JSON.stringify(require.resolve('../../dist/fetch/undici-lite'))});
const files = Object.keys(require.cache).filter((f) => f.includes('/node_modules/undici/'));
console.log(JSON.stringify({ files: files.length, index: files.some((f) => f.endsWith('/undici/index.js')) }));`;
    const got = JSON.parse(execFileSync(process.execPath, ['-e', probe]).toString()) as { files: number; index: boolean };
    expect(got.index).toBe(false);
    expect(got.files).toBeLessThan(60); // the index alone loads ~110
    expect(got.files).toBeGreaterThan(10);
  });

  it('falls back to undici\'s index when this undici keeps the parts elsewhere', () => {
    const moved = lite.loadParts(() => {
      throw Object.assign(new Error("Cannot find module 'undici/lib/dispatcher/agent'"), { code: 'MODULE_NOT_FOUND' });
    });
    expect(moved.Agent).toBe(undici.Agent);
    expect(moved.interceptors.redirect).toBe(undici.interceptors.redirect);
    expect(moved.apiRequest).toBe((undici.Dispatcher.prototype as unknown as { request: unknown }).request);
    expect(() => moved.parseURL('ftp://127.0.0.1/')).toThrow(expect.objectContaining({ code: 'UND_ERR_INVALID_ARG' }));
    expect(moved.parseURL('https://example.org/a?b').pathname).toBe('/a');
    // A part that is there but is not what we expect counts as moved too.
    const odd = lite.loadParts(() => ({ ...lite.loadParts(), Agent: {} as never }));
    expect(odd.Agent).toBe(undici.Agent);
  });

  describe('request()', () => {
    let server: http.Server;
    let base = '';
    const seen: { method?: string; url?: string; ua?: string }[] = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        seen.push({ method: req.method, url: req.url, ua: req.headers['x-test'] as string });
        if (req.url === '/moved') return res.writeHead(302, { location: '/here?x=1' }).end();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${req.method} ${req.url}`);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('sends path, query, method and headers through the given dispatcher, redirects included', async () => {
      const agent = new lite.Agent();
      const dispatcher = agent.compose(lite.interceptors.redirect({ maxRedirections: 2 }));
      try {
        const res = await lite.request(`${base}/moved`, { dispatcher, headers: { 'x-test': 'yes' } });
        expect(res.statusCode).toBe(200);
        expect(await res.body.text()).toBe('got GET /here?x=1');
        expect(seen.slice(-2)).toEqual([
          { method: 'GET', url: '/moved', ua: 'yes' },
          { method: 'GET', url: '/here?x=1', ua: 'yes' },
        ]);
      } finally {
        await agent.close();
      }
    });

    it('refuses a URL that is not http(s) with undici\'s own error', async () => {
      const agent = new lite.Agent();
      try {
        await expect(Promise.resolve().then(() => lite.request('ftp://127.0.0.1/x', { dispatcher: agent }))).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
        await expect(Promise.resolve().then(() => undici.request('ftp://127.0.0.1/x', { dispatcher: agent }))).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
      } finally {
        await agent.close();
      }
    });
  });
});
