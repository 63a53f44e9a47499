// The installer's own code judges harvgen on a corpus of mutations (test/real/helpers/installer-corpus.ts,
// generated here, not recorded): the values the installer reads, changed one at a time on a valid
// site, at each of the six releases whose installer source ../shared/installer-oracle/ keeps. For each
// mutation, harvgen's verdict (a deploy build: any error refuses) and the installer's (its own Go code,
// unmodified: load, pre-validation, validation, ConvertToCOS and the partition layout) are compared
// on the mutation's node:
//   - a SILENT PASS (harvgen accepts, the installer refuses) fails the test, naming the config;
//   - an OVER-STRICT case (harvgen refuses, the installer accepts) must carry its reason in
//     test/real/helpers/installer-overstrict.ts (policy, or the later failure it names); an entry
//     there that explains nothing fails too.
// The mutation: with the device-path rule left out (HARVGEN_TEST_MUTATE), the disk family has silent
// passes, and the message names the config the installer refuses.
//
// Needs root (the oracle runs in mount and network namespaces), Go and the Go module proxy for the
// first build of the oracles (.ci/run builds them; test/real/helpers/installer-oracle.ts otherwise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CORPUS_RELEASES, mutations, RULE_CASES } from './helpers/installer-corpus.ts';
import { INSTALLER_RULES, inReleases, RULES_IN_CI } from '../../src/harvester/installer-rules.ts';
import { parseVersion } from '../../src/harvester/versions.ts';
import { describeOutcome, overStrict, runCorpus, silentPass, type CorpusOutcome } from './helpers/installer-corpus-run.ts';
import { OVER_STRICT, overStrictReason, type OverStrictReason } from './helpers/installer-overstrict.ts';
import { oraclesReady } from './helpers/installer-oracle.ts';

let corpus: Promise<CorpusOutcome[]> | undefined;
const whole = () => (corpus ??= runCorpus(CORPUS_RELEASES));

test('the corpus has at least 300 mutations of the values the installer reads, in every family', () => {
  const all = mutations();
  assert.ok(all.length >= 300, `only ${all.length} mutations`);
  const families = new Set(all.map((m) => m.family));
  for (const f of [
    'disk',
    'wipe',
    'mode',
    'role',
    'tty',
    'vip',
    'network',
    'nics',
    'hostname',
    'dns',
    'ntp',
    'credentials',
    'token',
    'server-url',
    'size',
    'bool',
    'iso',
    'cidr',
    'os',
    'settings',
    'webhooks',
    'sans',
    'cordoned',
    'machine',
  ])
    assert.ok(families.has(f), `no mutation of the family ${f}`);
});

test('no silent pass: every config harvgen accepts, the installer of its release accepts too', async () => {
  if (!(await oraclesReady())) return;
  const t0 = Date.now();
  const out = await whole();
  const per = CORPUS_RELEASES.map((r) => {
    const mine = out.filter((o) => o.release === r);
    const both = mine.filter((o) => o.harvgen.accepted && o.installer.accepted).length;
    const neither = mine.filter((o) => !o.harvgen.accepted && !o.installer.accepted).length;
    return `${r}: ${mine.length} mutations, ${both} accepted by both, ${neither} refused by both, ${mine.filter(overStrict).length} over-strict, ${mine.filter(silentPass).length} silent`;
  });
  console.log(`installer corpus (${((Date.now() - t0) / 1000).toFixed(0)} s):\n  ${per.join('\n  ')}`);
  assert.is(out.length, mutations().length * CORPUS_RELEASES.length);
  // Both verdicts occur on both sides at every release: the comparison is not vacuous.
  for (const r of CORPUS_RELEASES) {
    const mine = out.filter((o) => o.release === r);
    assert.ok(mine.filter((o) => o.harvgen.accepted && o.installer.accepted).length >= 100, `${r}: too few accepted by both`);
    assert.ok(mine.filter((o) => !o.harvgen.accepted && !o.installer.accepted).length >= 50, `${r}: too few refused by both`);
  }
  const silent = out.filter(silentPass);
  assert.ok(silent.length === 0, `SILENT PASS: harvgen accepts what the installer refuses:\n${silent.map(describeOutcome).join('\n')}`);
  // Where harvgen writes a value otherwise than given (the boolean it reads from text), the
  // installer's verdict on the value as given is the same as on harvgen's: the reading agrees.
  const rewritten = out.filter((o) => o.asWritten !== undefined);
  assert.ok(rewritten.length >= 30, `only ${rewritten.length} rewritten values judged as written`);
  const misread = rewritten.filter((o) => o.asWritten!.accepted !== o.installer.accepted);
  assert.ok(
    misread.length === 0,
    `harvgen reads a value otherwise than the installer:\n${misread
      .map((o) => `${describeOutcome(o)}\n  as written: ${o.asWritten!.accepted ? 'accepts' : `refuses: ${o.asWritten!.refusal}`}`)
      .join('\n')}`,
  );
});

test('every over-strict case carries its reason, and every reason explains a case', async () => {
  if (!(await oraclesReady())) return;
  const out = await whole();
  const over = out.filter(overStrict);
  const unexplained = over.filter((o) => overStrictReason(o.id, o.release) === undefined);
  assert.ok(
    unexplained.length === 0,
    `OVER-STRICT without a reason in test/real/helpers/installer-overstrict.ts:\n${unexplained.map(describeOutcome).join('\n')}`,
  );
  const used = new Set<OverStrictReason>(over.map((o) => overStrictReason(o.id, o.release)!));
  const stale = OVER_STRICT.filter((r) => !used.has(r));
  assert.ok(stale.length === 0, `reasons that explain no over-strict case (remove them): ${stale.map((r) => r.id.source).join(', ')}`);
  // Where the reason is a warning of the installer's own code, the installer gave it.
  for (const o of over) {
    const r = overStrictReason(o.id, o.release)!;
    if (r.warns)
      assert.ok(
        o.installer.warnings.some((w) => r.warns!.test(w)),
        `${o.release} ${o.id}: the installer gave no warning ${r.warns}`,
      );
  }
  const kinds = { policy: 0, later: 0 };
  for (const o of over) kinds[overStrictReason(o.id, o.release)!.kind]++;
  console.log(`over-strict: ${over.length} (${kinds.policy} policy, ${kinds.later} a later failure), ${OVER_STRICT.length} reasons`);
});

test("each installer rule CI judges has corpus cases where the installer's code shows it, at its releases", async () => {
  if (!(await oraclesReady())) return;
  const out = await whole();
  const judged = Object.entries(RULES_IN_CI)
    .filter(([, j]) => j.by === 'installer')
    .map(([id]) => id);
  assert.equal(Object.keys(RULE_CASES).sort(), judged.sort(), 'RULE_CASES and RULES_IN_CI disagree on the rules CI judges');
  const shown: string[] = [];
  for (const rule of INSTALLER_RULES) {
    const cs = RULE_CASES[rule.id];
    if (cs === undefined) continue;
    for (const c of Array.isArray(cs) ? cs : [cs]) {
      const code = c.code ?? rule.code;
      const cases = out.filter((o) => c.id.test(o.id) && inReleases(parseVersion(o.release)!, rule.releases));
      const hit = cases.filter((o) => o.harvgen.codes.includes(code) || o.harvgen.warned.includes(code));
      assert.ok(hit.length > 0, `${rule.id}: no corpus case at ${rule.releases} where harvgen reports ${code}`);
      for (const o of hit) {
        const e = c.expect;
        const ok =
          e === 'both-refuse'
            ? !o.harvgen.accepted && !o.installer.accepted
            : e === 'both-accept'
              ? o.harvgen.accepted && o.installer.accepted
              : e === 'agree'
                ? o.harvgen.accepted === o.installer.accepted
                : o.installer.warnings.some((w) => e.installerWarns.test(w));
        assert.ok(ok, `${rule.id} (${typeof e === 'string' ? e : 'installer warns'}):\n${describeOutcome(o)}`);
      }
      shown.push(`${rule.id} ${hit.length}`);
    }
  }
  console.log(`rules shown by the installer's code: ${shown.join(', ')}`);
});

test('mutation: without the device-path rule, the corpus names the configs the installer refuses', async () => {
  if (!(await oraclesReady())) return;
  process.env.HARVGEN_TEST_MUTATE = 'drop-installer-rule:disk-device-path';
  let out: CorpusOutcome[];
  try {
    out = await runCorpus(['v1.8.1'], (m) => m.family === 'disk');
  } finally {
    delete process.env.HARVGEN_TEST_MUTATE;
  }
  const silent = out.filter(silentPass);
  const slash = silent.find((o) => o.id === 'install.device config:="/dev/disk/by-id/os/"');
  assert.ok(slash, `the mutant was not caught: ${silent.map((o) => o.id).join(', ')}`);
  const said = describeOutcome(slash!);
  assert.match(said, 'lstat /dev/disk/by-id/os/: not a directory');
  assert.match(said, 'config: device: /dev/disk/by-id/os/');
});

test.run();
