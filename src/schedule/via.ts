// Which scheduler a machine has, as `--via` defaults: TrueNAS's middleware on TrueNAS (anything
// in /etc is rebuilt by an upgrade there), systemd where it runs as PID 1, else cron.
import { cronBackend } from './backends/cron';
import { systemdBackend, systemdBooted } from './backends/systemd';
import { isTrueNas, trueNasBackend } from './backends/truenas';
import { VIAS, type Backend, type Via } from './backends/types';
import type { Places } from './places';

export async function defaultVia(places: Places): Promise<Via> {
  if (await isTrueNas(places)) return 'truenas';
  if (systemdBooted(places)) return places.isRoot ? 'systemd' : 'systemd-user';
  return 'cron';
}

export function backendFor(via: Via, places: Places): Backend {
  switch (via) {
    case 'truenas':
      return trueNasBackend(places);
    case 'systemd':
      return systemdBackend(places, false);
    case 'systemd-user':
      return systemdBackend(places, true);
    case 'cron':
      return cronBackend(places);
  }
}

/** Every backend there is to look at here (for list and remove). Root's own systemd units are for root only. */
export async function presentBackends(places: Places): Promise<Backend[]> {
  const all = VIAS.map((v) => backendFor(v, places));
  const present = await Promise.all(all.map((b) => b.present()));
  return all.filter((b, i) => present[i] && (b.via !== 'systemd' || places.isRoot));
}
