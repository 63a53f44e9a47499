// The catalogue of diagnostic codes. Codes are stable: never rename one; retire it instead.
// Prefix = the stage (or the inventory section) that reports it. ARCHITECTURE.md and the
// README print this table; test/codes.test.ts checks that every code has a fixture. The entries
// live in catalogue/ (the inventory's, a run's), in the order the reference lists them.
import { INVENTORY_CODES } from './catalogue/inventory.ts';
import { RUN_CODES } from './catalogue/runs.ts';
import type { CodeInfo } from './catalogue/info.ts';

export type { CodeInfo, ExitClass } from './catalogue/info.ts';

/** Every code harvgen reports, with its default severity, its exit class and a one-line summary. */
export const CODES = { ...INVENTORY_CODES, ...RUN_CODES } as const satisfies Record<string, CodeInfo>;

/** A diagnostic code from the catalogue. */
export type Code = keyof typeof CODES;
