// Reads what cel-js says about an expression it refused: the first line of the message, and
// where in the expression the problem is (it draws a caret under the source line).

/** The first line of a CEL error's message. */
export function celMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

/** The 0-based offset in a one-line expression that the caret points at, when there is one. */
export function celErrorOffset(err: unknown): number | undefined {
  const lines = (err instanceof Error ? err.message : '').split('\n');
  const source = lines.findIndex((l) => /^>\s+\d+ \| /.test(l));
  const caret = source >= 0 ? lines[source + 1] : undefined;
  const prefix = source >= 0 ? /^>\s+\d+ \| /.exec(lines[source] as string)?.[0].length : undefined;
  if (caret === undefined || prefix === undefined || !caret.includes('^')) return undefined;
  return Math.max(0, caret.indexOf('^') - prefix);
}
