// oclif's `command_not_found` hook: an unknown command, or words after a command that takes
// none (`detect extra-arg` reaches oclif as the id "detect:extra-arg"), become one usage error in
// our format (exit 2), with the nearest command when one is near enough. Our own hook rather than
// @oclif/plugin-not-found: that plugin prints oclif's warning format and asks "did you mean"
// interactively, and offers no way to print our one line instead.
import type { Hook } from '@oclif/core';
import * as levenshtein from 'fast-levenshtein';
import { UsageError } from '../errors';
import { provisionFailure, renderFailure } from './failure';

/** What the user typed, as words ("key shw 1.4.2" -> ["key", "shw", "1.4.2"]). */
function wordsOf(id: string, argv: readonly string[] = []): string[] {
  return [...id.split(':'), ...argv].filter((w) => w !== '');
}

/** The one-line error for `words` given the command ids oclif knows (colon-separated: "key:show"). */
export function notFoundError(
  words: readonly string[],
  commandIds: readonly string[],
  bin = 'borg-provision',
): UsageError {
  const ids = new Set(commandIds);
  // A known command followed by words it does not take.
  for (let n = words.length - 1; n > 0; n--) {
    const id = words.slice(0, n).join(':');
    if (!ids.has(id)) continue;
    const cmd = words.slice(0, n).join(' ');
    const extra = words.slice(n).join(' ');
    return new UsageError(`${cmd} takes no argument here: unexpected "${extra}" (see ${bin} ${cmd} --help)`);
  }
  // Under a topic (`key shw`) the unknown command is both words.
  const isTopic = commandIds.some((id) => id.startsWith(`${words[0]}:`));
  const typed = words.slice(0, isTopic ? 2 : 1).join(' ');
  const near = nearestCommand(words, [...ids]);
  const advice = near ? `did you mean "${bin} ${near}"?` : `see ${bin} --help for the commands`;
  return new UsageError(`"${typed}" is not a ${bin} command: ${advice}`);
}

/**
 * The command nearest to what was typed: its first word against the top-level names, then (for a
 * topic such as `key`) the second word against the topic's commands. Null when nothing is near
 * (more than a third of the word would have to change).
 */
export function nearestCommand(words: readonly string[], commandIds: readonly string[]): string | null {
  const split = commandIds.map((id) => id.split(':'));
  const top = nearest(words[0] ?? '', [...new Set(split.map((p) => p[0]))]);
  if (!top) return null;
  const under = split.filter((p) => p[0] === top && p.length > 1).map((p) => p.slice(1).join(' '));
  if (under.length === 0) return top;
  const sub = words[0] === top ? nearest(words[1] ?? '', under) : null;
  return sub ? `${top} ${sub}` : under.length === 1 ? `${top} ${under[0]}` : `${top} ${under.join('|')}`;
}

function nearest(word: string, names: readonly string[]): string | null {
  let best: { name: string; d: number } | null = null;
  for (const name of names) {
    const d = levenshtein.get(word.toLowerCase(), name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(1, Math.floor(Math.max(word.length, best.name.length) / 3)) ? best.name : null;
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const err = notFoundError(wordsOf(opts.id, opts.argv), ids, opts.config.bin);
  renderFailure(provisionFailure(err)!, { json: (opts.argv ?? []).includes('--json') });
};

export default hook;
