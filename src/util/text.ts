// Small text helpers shared by error rendering and generated scripts.

/** The first non-empty line of an error or a tool's output, trimmed, without a leading "Error: ". */
export function firstLine(input: unknown): string {
  const text = input instanceof Error ? input.message : String(input ?? '');
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return (line ?? '').replace(/^Error: /, '');
}

/** Quotes a string for a POSIX shell: single quotes, with embedded ones as '\''. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Like shQuote, but leaves words that need no quoting bare, for commands shown to people. */
export function shQuoteForDisplay(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : shQuote(s);
}
