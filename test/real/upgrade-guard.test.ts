// Harvester's own upgrade version guard judges harvgen's upgrade rule (src/harvester/upgrade-paths.ts:
// MIN_UPGRADABLE and hopRefusal, behind UPGRADE_HOP_UNSUPPORTED). test/oracle/upgrade-guard/main.go
// calls harvester/go-common's `version` package, unmodified from the Go module proxy, the way
// Harvester's upgrade controller does (pkg/upgradehelper/versionguard Check: strict
// CheckUpgradeEligibility), built once per go-common and semver pin that the target releases'
// own go.mod names. Every ordered pair of the releases harvgen knows (plus v1.9.0-rc5 and -rc6)
// whose target has a minimum goes through the build of its target's line, and harvgen must
// accept exactly the hops the guard allows, refusing the others with the guard's own words.
//
// Needs Go and the Go module proxy (go-common and semver, about 100 KB; kept in .tmp/real/gomod
// between runs). The mutation: the same comparison with one minimum changed finds the change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { KNOWN_RELEASES } from '../../src/harvester/releases.ts';
import { hopRefusal, MIN_UPGRADABLE } from '../../src/harvester/upgrade-paths.ts';
import { tempDir } from '../helpers/tmp.ts';
import { describe, run } from './helpers/proc.ts';
import { requireProgram } from './helpers/programs.ts';
import { buildOracle } from './helpers/go.ts';

/**
 * The go-common and semver pins of each release line, from the release's go.mod as the Go module
 * proxy serves it (github.com/harvester/harvester/@v/<tag>.mod, read 2026-11-28: v1.4.0-v1.4.2,
 * v1.5.0-v1.5.1, v1.6.0, v1.7.0, v1.8.0-v1.8.2). The proxy refuses the other tags' go.mod (v1.4.3,
 * v1.5.2, v1.6.1, v1.7.1-v1.7.3, every v1.9.0 tag): they take their line's pins. v1.9.0-rc6's
 * vendor/modules.txt names the v1.8 pins (read in a copy of its source).
 */
const BUILDS = [
  { line: /^v1\.4\./, modfile: 'go.gc198df-sv330.mod', pins: 'go-common 198df47889ca, semver v3.3.0' },
  { line: /^v1\.[56]\./, modfile: 'go.gce748-sv330.mod', pins: 'go-common e748ce72a7ba, semver v3.3.0' },
  { line: /^v1\.7\./, modfile: 'go.gce748-sv331.mod', pins: 'go-common e748ce72a7ba, semver v3.3.1' },
  { line: /^v1\.[89]\./, modfile: 'go.mod', pins: 'go-common 0f17176ce67e, semver v3.4.0' },
] as const;

interface Hop {
  from: string;
  to: string;
  min: string;
}
interface Outcome extends Hop {
  allowed: boolean;
  error?: string;
}

/**
 * Every ordered pair (from == to included) of the releases harvgen knows whose target has a
 * minimum, and a hop from a release candidate to a release of the next line harvgen does not know
 * yet (v1.9.1, no minimum): the guard's prerelease rule.
 */
function hops(): Hop[] {
  const versions = [...KNOWN_RELEASES.map((r) => r.version), 'v1.9.0-rc5', 'v1.9.0-rc6'];
  const unique = [...new Set(versions)];
  const pairs = unique.flatMap((to) => {
    const min = MIN_UPGRADABLE[to];
    return min === undefined ? [] : unique.map((from) => ({ from, to, min }));
  });
  return [...pairs, { from: 'v1.9.0-rc6', to: 'v1.9.1', min: '' }];
}

let judged: Promise<Outcome[]> | undefined;
/** The guard's outcome of every hop, each judged by the build of its target's line. */
function guardOutcomes(): Promise<Outcome[]> {
  judged ??= (async () => {
    const all = hops();
    const out: Outcome[] = [];
    const dir = tempDir('upgrade-guard');
    for (const b of BUILDS) {
      const mine = all.filter((h) => b.line.test(h.to));
      if (mine.length === 0) continue;
      const bin = path.join(dir, `guard-${b.modfile}`);
      await buildOracle('upgrade-guard', bin, b.modfile);
      const r = await run([bin], { input: JSON.stringify(mine), timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`the guard (${b.pins}) failed:\n${describe(r)}`);
      out.push(...(JSON.parse(r.stdout) as Outcome[]));
    }
    return out;
  })();
  return judged;
}

/** Where harvgen's rule, with the minimums `minOf`, answers other than the guard. */
function disagreements(outcomes: readonly Outcome[], minOf: (to: string) => string | undefined): string[] {
  return outcomes.flatMap((o) => {
    const got = hopRefusal(o.from, o.to, minOf(o.to));
    // harvgen's text is the guard's, with the minimum named after it.
    const same = o.allowed ? got === undefined : got !== undefined && got.startsWith(o.error!);
    return same ? [] : [`${o.from} -> ${o.to} (min ${o.min}): guard ${o.allowed ? 'allowed' : o.error}, harvgen ${got ?? 'allowed'}`];
  });
}

test("every pair of releases harvgen knows: harvgen accepts exactly the hops Harvester's version guard (go-common, as each target pins it) allows, and refuses the others in its words", async () => {
  if (!requireProgram('go')) return;
  const outcomes = await guardOutcomes();
  assert.ok(outcomes.length > 400, `only ${outcomes.length} hops judged`);
  assert.equal(outcomes.length, hops().length, 'every hop judged once');
  const refused = outcomes.filter((o) => !o.allowed);
  for (const kind of ['minimum', 'downgrad', 'prerelease'])
    assert.ok(
      refused.some((o) => o.error!.includes(kind)),
      `the guard refused no hop for ${kind}`,
    );
  assert.ok(
    outcomes.some((o) => o.allowed && o.from !== o.to),
    'the guard allowed some hop',
  );
  assert.equal(
    disagreements(outcomes, (to) => MIN_UPGRADABLE[to] ?? undefined),
    [],
  );
});

test('mutation: a minimum one release off (v1.9.0 from v1.7.0) is caught by the same comparison', async () => {
  if (!requireProgram('go')) return;
  const outcomes = await guardOutcomes();
  const found = disagreements(outcomes, (to) => (to === 'v1.9.0' ? 'v1.7.0' : MIN_UPGRADABLE[to]));
  assert.ok(
    found.some((d) => d.startsWith('v1.7.0 -> v1.9.0 ')),
    found.join('\n'),
  );
});

test.run();
