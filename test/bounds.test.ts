// Bounded everything (issue 20, finding 7 and the `__proto__` alias key of 8): small inventories
// that used to cost huge amounts (aliases that expand a file a hundredfold, a mapping of 20,000
// keys parsed in quadratic time, a chain of 2,000 profiles) are refused with a positioned
// diagnostic naming the limit; at each limit the inventory passes. The time and memory of each
// case at its limit is measured by the bench (`npm run bench -- --bounds`), never here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import type { Diagnostic } from '../src/diagnostics/types.ts';
import { tempDir } from './helpers/tmp.ts';
import { aliasSite, chainSite, configSite, keysSite, profileName, SITE, siteYaml, writeRepo } from './fixtures/bounds/inventories.ts';
import { harvester } from './helpers/kinds.ts';
import { manyNodes } from './helpers/bounds.ts';

async function checkRepo(files: Record<string, string>): Promise<{ root: string; diagnostics: readonly Diagnostic[]; ok: boolean }> {
  const root = writeRepo(tempDir('bounds'), files);
  const r = await check({ sites: [SITE], cwd: root });
  return { root, diagnostics: r.diagnostics, ok: r.ok };
}

/** The one diagnostic of `code`, asserting that there is exactly one. */
function only(diagnostics: readonly Diagnostic[], code: string): Diagnostic {
  const found = diagnostics.filter((d) => d.code === code);
  assert.is(found.length, 1, `${code} in ${JSON.stringify(diagnostics.map((d) => `${d.code} ${d.message}`.slice(0, 200)))}`);
  return found[0]!;
}

/** The text of line `n` (1-based) of a file of the repository. */
const lineOf = (root: string, file: string, n: number) => readFileSync(join(root, file), 'utf8').split('\n')[n - 1]!;

// ---- aliases ---------------------------------------------------------------------------------

test("the issue's case: 99 aliases of a 950 KB value in `config:` are refused at the alias that passes 2 MiB", async () => {
  const { diagnostics, ok } = await checkRepo(aliasSite(99, 950_000));
  assert.is(ok, false);
  const d = only(diagnostics, 'YAML_ALIAS_LIMIT');
  // The anchor's value once, then one alias (1.9 MB): the second alias passes the limit.
  assert.equal([d.file, d.line, d.col, d.endCol], [`${SITE}/site.yaml`, 15, 11, 13]);
  assert.match(d.message, /more than 2 MiB/);
  assert.match(d.message, /each `\*f` repeats the 927\.\d KiB of `&f` \(line 13\)/);
});

test('aliases are counted as they expand: 99 aliases of 24,000 characters pass 2 MiB at the 87th', async () => {
  const { root, diagnostics } = await checkRepo(aliasSite(99, 24_000));
  const d = only(diagnostics, 'YAML_ALIAS_LIMIT');
  assert.is(lineOf(root, d.file!, d.line!), '        - *f');
  // Line 13 holds the anchor, so the k-th alias is on line 13 + k.
  assert.is(d.line! - 13, 87);
  assert.equal(d.col, 11);
});

test('an alias inside the value of its own anchor is refused (it would expand without end)', async () => {
  const { diagnostics } = await checkRepo({ [`${SITE}/site.yaml`]: siteYaml('  kernel_args: &a [x, *a]\n') });
  const d = only(diagnostics, 'YAML_ALIAS_LIMIT');
  assert.equal([d.line, d.col], [10, 23]);
  assert.match(d.message, /inside the value of its own anchor `&a`/);
});

test('a `__proto__` key written as an alias (`*p: x` where `&p __proto__`) is refused like the plain key', async () => {
  const { diagnostics } = await checkRepo({
    [`${SITE}/site.yaml`]: siteYaml('  config:\n    os:\n      environment: { &p A: a, B: b }\n      labels: { *p : x }\n').replace(
      '&p A: a',
      'x: &p __proto__',
    ),
  });
  const d = only(diagnostics, 'YAML_TAG');
  assert.equal([d.line, d.col], [13, 17]);
  assert.match(d.message, /`__proto__` \(the alias `\*p`\)/);
});

test('a list or mapping as a key is refused (JS would turn it into a string, with a warning on stderr)', async () => {
  const { diagnostics } = await checkRepo({
    [`${SITE}/site.yaml`]: siteYaml('  config:\n    os:\n      environment: { ? &k [a] : x, *k : y }\n'),
  });
  const found = diagnostics.filter((d) => d.code === 'YAML_TAG').map((d) => [d.line, d.col, d.message]);
  assert.equal(found, [
    [12, 27, 'a list as a key (`? ` or an alias of one) is not allowed in an inventory'],
    [12, 36, 'a list as a key (`? ` or an alias of one) is not allowed in an inventory'],
  ]);
});

test('lists and mappings nested hundreds deep are a YAML error in plain words', async () => {
  const { diagnostics } = await checkRepo({ [`${SITE}/site.yaml`]: siteYaml(`  config: ${'['.repeat(5000)}${']'.repeat(5000)}\n`) });
  const d = only(diagnostics, 'YAML_SYNTAX');
  assert.is(d.message, 'the lists and mappings here are nested too deeply to read (hundreds of levels)');
  assert.is(d.line, 10);
});

// ---- keys per mapping, items per list --------------------------------------------------------

test('a mapping of 20,000 keys is refused at its 10,001st key', async () => {
  const { root, diagnostics } = await checkRepo(keysSite(20_000));
  const d = only(diagnostics, 'YAML_TOO_MANY_KEYS');
  assert.is(lineOf(root, d.file!, d.line!).trim(), 'K10000: v10000');
  assert.is(d.col, 9);
  assert.match(d.message, /the mapping that starts on line 13 has 20,000 keys; a mapping may have at most 10,000/);
});

test('a list of 200,000 items is refused at its 10,001st (it overflowed the stack: an internal error)', async () => {
  const { diagnostics } = await checkRepo({
    [`${SITE}/site.yaml`]: siteYaml(`  kernel_args: [${Array.from({ length: 200_000 }, () => 'a').join(',')}]\n`),
  });
  const d = only(diagnostics, 'YAML_TOO_MANY_KEYS');
  assert.equal([d.line, d.col], [10, 17 + 2 * 10_000]);
  assert.match(d.message, /the list that starts on line 10 has 200,000 items; a list may have at most 10,000/);
});

test('a mapping of 10,000 keys (the limit) passes', async () => {
  const { diagnostics, ok } = await checkRepo(keysSite(10_000));
  assert.equal(
    diagnostics.map((d) => d.code),
    [],
  );
  assert.ok(ok);
});

test('10,000 errors in one mapping are each positioned at their key (a lookup no longer scans the mapping)', async () => {
  const files = keysSite(10_000);
  files[`${SITE}/site.yaml`] = files[`${SITE}/site.yaml`]!.replace(/(K\d+): v(\d+)/g, '$1: $2');
  const { diagnostics } = await checkRepo(files);
  assert.is(diagnostics.length, 10_000);
  assert.ok(
    diagnostics.every((d, i) => d.code === 'HARVESTER_CONFIG_INVALID' && d.line === 13 + i && d.col === 17),
    JSON.stringify(diagnostics[0]),
  );
});

test('duplicate keys are still found in one pass, with the line of the first, in a large mapping', async () => {
  const { diagnostics } = await checkRepo(keysSite(10_000, 'K00002: again'));
  const d = only(diagnostics, 'YAML_DUPLICATE_KEY');
  assert.equal([d.line, d.col], [13 + 9_999, 9]);
  assert.match(d.message, /the key `K00002` appears twice in this mapping \(first on line 15\)/);
});

test('keys that become the same property are duplicates: `1` and "1", and a key and an alias of it', async () => {
  const same = await checkRepo({
    [`${SITE}/site.yaml`]: siteYaml('  config:\n    os:\n      environment:\n        1: a\n        "1": b\n'),
  });
  const d = only(same.diagnostics, 'YAML_DUPLICATE_KEY');
  assert.equal([d.line, d.col], [14, 9]);
  assert.match(d.message, /the key `1` appears twice in this mapping \(first on line 13\)/);
  const aliased = await checkRepo({
    [`${SITE}/site.yaml`]: siteYaml('  config:\n    os:\n      environment: { &k A: a, *k : b }\n'),
  });
  const a = only(aliased.diagnostics, 'YAML_DUPLICATE_KEY');
  assert.equal([a.line, a.col], [12, 31]);
});

// ---- profile chains --------------------------------------------------------------------------

test('a chain of 17 profiles is refused at the `profile:` of the 16th, which adds the 17th', async () => {
  const { diagnostics } = await checkRepo(chainSite(17));
  const d = only(diagnostics, 'NODE_PROFILE_CHAIN_TOO_LONG');
  assert.equal([d.file, d.line, d.col], [`sites/_profiles/${profileName(15)}.yaml`, 1, 10]);
  assert.is(d.path, `$profiles.${profileName(15)}.profile`);
  assert.match(d.message, /more than 16 profiles: p0000 -> p0001 -> .* -> p0015 -> p0016$/);
});

test('a chain of 16 profiles (the limit) passes, and its deepest profile still sets values', async () => {
  const root = writeRepo(tempDir('bounds'), chainSite(16));
  const r = await check({ sites: [SITE], cwd: root });
  assert.equal(
    r.diagnostics.map((d) => d.code),
    [],
  );
  const node = harvester(r.sites[0]!.model!.nodes[0]);
  assert.is(node.mtu, 1450);
  assert.is(node.sources.mtu!.join('.'), `$profiles.${profileName(15)}.mtu`);
});

test('a chain of 2,000 profiles is refused once, at the 16th (it took 14-18 s to accept)', async () => {
  const { diagnostics } = await checkRepo(chainSite(2_000));
  const d = only(diagnostics, 'NODE_PROFILE_CHAIN_TOO_LONG');
  assert.is(d.file, `sites/_profiles/${profileName(15)}.yaml`);
  assert.match(d.message, /p0000 -> p0001 -> p0002 -> \.\.\. -> p0015 -> p0016 \(2000 in all\)/);
  assert.is(diagnostics.length, 1);
});

test('chains from several heads that pass the limit at the same profile are reported once', async () => {
  const files = chainSite(20);
  // Two more heads next to p0000, each building on p0001: all three chains pass 16 at p0015.
  files['sites/_profiles/q.yaml'] = 'profile: p0001\n';
  files['sites/_profiles/r.yaml'] = 'profile: p0001\n';
  const { diagnostics } = await checkRepo(files);
  const found = diagnostics.filter((d) => d.code === 'NODE_PROFILE_CHAIN_TOO_LONG').map((d) => d.file);
  assert.equal(found, [`sites/_profiles/${profileName(15)}.yaml`]);
});

test('a loop of two profiles is reported once (it was reported from each of them)', async () => {
  const files = chainSite(3);
  files[`sites/_profiles/${profileName(2)}.yaml`] = `profile: ${profileName(1)}\n`;
  const { diagnostics } = await checkRepo(files);
  const d = only(diagnostics, 'NODE_PROFILE_CYCLE');
  assert.match(d.message, /p0001 -> p0002 -> p0001$/);
  assert.equal([d.file, d.line, d.col], [`sites/_profiles/${profileName(1)}.yaml`, 1, 10]);
});

// ---- the size of a node's config ---------------------------------------------------------------

test("a node config over 1 MiB is refused at its `config:` before it is built: the merged value's size", async () => {
  const { diagnostics, ok } = await checkRepo(configSite(1_200_000));
  assert.is(ok, false);
  const d = only(diagnostics, 'RENDER_CONFIG_TOO_LARGE');
  assert.equal([d.file, d.line, d.col, d.path], [`${SITE}/site.yaml`, 10, 3, 'defaults.config']);
  assert.match(d.message, /node n1 would be more than 1 MiB: its `config:` holds 1\.1 MiB/);
});

test('a node config over 1 MiB as written (escapes double it) is refused at its `config:`', async () => {
  const { diagnostics } = await checkRepo(configSite(1_200_000, true));
  const d = only(diagnostics, 'RENDER_CONFIG_TOO_LARGE');
  assert.equal([d.line, d.col], [10, 3]);
  assert.match(d.message, /the file would be 1\.1 MiB/);
});

test('nodes that share an oversized `config:` are reported once, naming them all', async () => {
  const files = configSite(1_200_000);
  files[`${SITE}/site.yaml`] = files[`${SITE}/site.yaml`]!.replace(
    '  - { hostname: n1, mac: 52:54:00:00:00:01, ip: 10.0.0.11 }\n',
    '  - { hostname: n1, mac: 52:54:00:00:00:01, ip: 10.0.0.11 }\n  - { hostname: n2, mac: 52:54:00:00:00:02, ip: 10.0.0.12 }\n',
  );
  const { diagnostics } = await checkRepo(files);
  assert.match(only(diagnostics, 'RENDER_CONFIG_TOO_LARGE').message, /nodes n1, n2 would be more than 1 MiB/);
});

test('a node config just under 1 MiB passes', async () => {
  const { diagnostics, ok } = await checkRepo(configSite(1_000_000));
  assert.equal(
    diagnostics.map((d) => d.code),
    [],
  );
  assert.ok(ok);
});

// ---- the size of all node configs of a site ------------------------------------------------------

test("the review's case: 1 MB of `defaults.config` repeated in 68 nodes is refused once, at `defaults.config`, before any config is built", async () => {
  const { diagnostics, ok } = await checkRepo(manyNodes(68, 1_000_000));
  assert.is(ok, false);
  // One diagnostic for the site: none per node, no config built or checked.
  assert.equal(
    diagnostics.map((d) => d.code),
    ['RENDER_SITE_CONFIGS_TOO_LARGE'],
  );
  const d = diagnostics[0]!;
  assert.equal([d.file, d.line, d.col, d.path], [`${SITE}/site.yaml`, 10, 3, 'defaults.config']);
  assert.match(d.message, /the Harvester configs of the site's 68 nodes would be more than 64 MiB in all: their `config:` holds 64\.9 MiB/);
  assert.match(d.message, /the largest part of their `config:` \(64\.9 MiB\) is this one, repeated in 68 nodes$/);
});

test('each node adding a line of its own `config:` still reports the shared `config:` that holds the most', async () => {
  const files = manyNodes(68, 1_000_000);
  for (let i = 2; i <= 68; i++) files[`${SITE}/nodes/n${i}.yaml`] += `config: { os: { environment: { RACK: r${i} } } }\n`;
  const { diagnostics } = await checkRepo(files);
  const d = only(diagnostics, 'RENDER_SITE_CONFIGS_TOO_LARGE');
  assert.equal([d.file, d.line, d.col, d.path], [`${SITE}/site.yaml`, 10, 3, 'defaults.config']);
  assert.match(d.message, /is this one, repeated in 68 nodes$/);
});

test('configs that escapes make longer than their `config:` are refused as rendered, once, when the files pass 64 MiB', async () => {
  // Each `"` is written `\"`: the `config:`s hold 32 MiB, their files twice that.
  const { diagnostics } = await checkRepo(manyNodes(68, 1_000_000, true));
  assert.equal(
    diagnostics.map((d) => d.code),
    ['RENDER_SITE_CONFIGS_TOO_LARGE'],
  );
  const d = diagnostics[0]!;
  assert.equal([d.line, d.col, d.path], [10, 3, 'defaults.config']);
  assert.match(d.message, /more than 64 MiB in all: the first 67 files would be 64\.\d MiB;/);
});

test('a site whose node configs hold less than 64 MiB together passes: 66 nodes of 1 MB', async () => {
  const { diagnostics, ok } = await checkRepo(manyNodes(66, 1_000_000));
  assert.equal(
    diagnostics.map((d) => d.code),
    [],
  );
  assert.ok(ok);
});

// ---- the command line --------------------------------------------------------------------------

test.run();
