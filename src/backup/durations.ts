// Durations in config and flags: "2 weeks", "1 day", "12h", "30 minutes", "2d".
import { UsageError } from '../errors';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  month: 2_592_000_000,
  y: 31_536_000_000,
  year: 31_536_000_000,
};

/** Milliseconds of a duration, or null when it is not one (the caller names the key). */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+)\s*([a-z]+?)s?\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNIT_MS[m[2].toLowerCase()];
  return unit === undefined ? null : Number(m[1]) * unit;
}

/** For flags: a duration or a UsageError that says how to write one. */
export function durationFlag(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms === 0) {
    throw new UsageError(`bad ${flag} '${text}'`, { hint: 'use a number and a unit, e.g. 36h, 2d, 1 week' });
  }
  return ms;
}

/** "3d 4h"-style age for people. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}
