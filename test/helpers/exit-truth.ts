// What test/exit-truth.test.ts and test/cli-exit-truth.test.ts share: seeded inventories of each
// kind (valid, warnings, errors, an oversized secret, an internal error).

import { MAX_SECRET_BYTES } from '../../src/load/secrets.ts';
import { assertNever } from '../../src/util/assert-never.ts';
import { minimalSiteHead } from './example.ts';
import { prng } from './prng.ts';

process.env.HG_EXIT_TOKEN = 'exit-truth-token.1';

/** mulberry32 (./prng.ts): a failure names its seed and replays. */
export const rng = prng;

export type Kind = 'valid' | 'warning' | 'error' | 'oversized' | 'internal';

export const KINDS: readonly Kind[] = ['valid', 'warning', 'error', 'oversized', 'internal'];

export interface Case {
  readonly seed: number;
  readonly kind: Kind;
  readonly strict: boolean;
  readonly yaml: string;
}

/** One inventory of site `t` (so every case of a seed writes to the same output directory). */
export function generate(seed: number, kind: Kind): Case {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const nodes = 1 + Math.floor(rand() * 3);
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const base = Math.floor(rand() * 200);
  const lines: string[] = [];
  for (let i = 0; i < nodes; i++) {
    lines.push(`  - hostname: n${i + 1}`, `    mac: 52:54:00:${hex(seed & 0xff)}:${hex(base)}:${hex(i + 1)}`, `    ip: 10.0.0.${20 + i}`);
  }
  // From the environment: the committed tree reads no reference, so a valid inventory has no finding at all.
  let token = '{ env: HG_EXIT_TOKEN }';
  let password = `$6$saltsaltsaltsalt$${'a'.repeat(86)}`;
  let device = '/dev/disk/by-id/virtio-root';
  let vip = '10.0.0.10';
  let extra = '';
  switch (kind) {
    case 'valid':
      break;
    case 'warning':
      // A plain-text password (SECRET_INLINE) or a /dev/sdX device: warnings only.
      if (rand() < 0.5) password = `pass-${seed}-plain`;
      else device = '/dev/sda';
      break;
    case 'error':
      if (rand() < 0.5) vip = '10.9.9.9';
      else extra = '  bogus_key: 1\n';
      break;
    case 'oversized': {
      // The finding: a warning and a password of 64 KiB or more; also just over the limit, and a token.
      const n = pick([MAX_SECRET_BYTES + 1, 64 * 1024, 70_000]);
      if (rand() < 0.7) password = 'p'.repeat(n);
      else token = 't'.repeat(n);
      break;
    }
    case 'internal':
      // A warning as well: the internal error must not be dropped behind it.
      password = `pass-${seed}-plain`;
      break;
    default:
      assertNever(kind, 'case kind');
  }
  const yaml = `${minimalSiteHead('t')}  vip: ${vip}
  token: ${token}
  password: '${password}'
${extra}defaults:
  install:
    device: ${device}
nodes:
${lines.join('\n')}
`;
  return { seed, kind, strict: kind === 'warning' && rand() < 0.4, yaml };
}
