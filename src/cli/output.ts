// How the CLI prints: the colour decision. The `--json` document is src/diagnostics/envelope.ts;
// the exit codes are src/diagnostics/exit.ts.

/**
 * Colour on a stream: `--no-color` and NO_COLOR turn it off, FORCE_COLOR turns it on (FORCE_COLOR=0
 * off) even without a terminal, otherwise only on a terminal.
 */
export function useColor(
  flag: boolean | undefined,
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (flag === false || (env.NO_COLOR ?? '') !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}
