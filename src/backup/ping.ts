// healthchecks.io-style pings: <url>/start when a run starts, <url> on success, <url>/fail with the
// tail of the run log on failure. A ping that fails is a warning: monitoring must not break backups.
export type PingKind = 'start' | 'success' | 'fail';

export async function ping(url: string, kind: PingKind, body = ''): Promise<string | null> {
  const target = kind === 'success' ? url : `${url.replace(/\/+$/, '')}/${kind}`;
  try {
    const res = await fetch(target, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? null : `ping ${kind} got HTTP ${res.status}`;
  } catch (err) {
    return `ping ${kind} failed: ${(err as Error).message}`;
  }
}
