// The general path of the compiler, for tests and for comparing: `HARVGEN_GENERAL_PATH=1` turns
// off the shortcuts of the fast path (inventory files parsed by the yaml library only, templates
// rendered with strict data always). Both paths must give the same bytes (test/fast-path.test.ts).

/** Whether this process runs the general path (read once: a run does not switch paths). */
const GENERAL = process.env.HARVGEN_GENERAL_PATH === '1';

export function generalPath(): boolean {
  return GENERAL;
}
