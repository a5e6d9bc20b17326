// Redirects never drop from https to plain http: a real https server on 127.0.0.1 (throwaway
// certificate made by openssl) redirects to a plain http one, which must never be asked.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetworkError } from '../../src/errors';
import { isDowngrade, openHttp, resolveNet } from '../../src/net';

describe('https -> http redirects', () => {
  let dir: string;
  let cert: Buffer;
  let tlsServer: https.Server;
  let plain: http.Server;
  let plainHits = 0;
  let httpsUrl = '';
  let plainUrl = '';

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-redirect-'));
    const key = path.join(dir, 'key.pem');
    const crt = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    cert = await fs.readFile(crt);
    plain = http.createServer((_req, res) => {
      plainHits++;
      res.end('plain');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    tlsServer = https.createServer({ key: await fs.readFile(key), cert }, (req, res) => {
      if (req.url === '/down') res.writeHead(302, { location: `${plainUrl}/file` }).end();
      else if (req.url === '/hop') res.writeHead(301, { location: '/ok' }).end();
      else res.end('secure');
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    httpsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => tlsServer?.close(resolve));
    await new Promise((resolve) => plain?.close(resolve));
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('knows a downgrade when it sees one', () => {
    expect(isDowngrade('https://a.example/x', 'http://a.example/x')).toBe(true);
    expect(isDowngrade('https://a.example/x', 'https://b.example/y')).toBe(false);
    expect(isDowngrade('http://a.example/x', 'https://a.example/y')).toBe(false);
    expect(isDowngrade('http://127.0.0.1:1/x', 'http://127.0.0.1:2/y')).toBe(false);
  });

  it.each([false, true])(
    'the shared dispatcher (retry %s) refuses it, naming both URLs, and never asks the http server',
    async (retry) => {
      const http = await openHttp(resolveNet({ maxRetries: 2, minBackoffMs: 5 }), retry, { ca: cert });
      try {
        const ok = await http.get(`${httpsUrl}/hop`, {});
        expect(await ok.body.text()).toBe('secure');
        const err = await http.get(`${httpsUrl}/down`, {}).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NetworkError);
        expect((err as Error).message).toBe(
          `refusing the redirect from ${httpsUrl}/down to ${plainUrl}/file: it drops from https to plain http; report it to the server's owner`,
        );
        expect(plainHits).toBe(0);
      } finally {
        await http.close();
      }
    },
  );
});
