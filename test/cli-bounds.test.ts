// The bounds through the CLI (test/bounds.test.ts has the rest): `harvgen check` and `build --json`
// report each limit as an error, never a stack trace.

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { runCli, hasStackTrace } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { aliasSite, chainSite, configSite, keysSite, SITE, writeRepo } from './fixtures/bounds/inventories.ts';
import { manyNodes } from './helpers/bounds.ts';

test('harvgen check and build --json report each limit as an error (exit 1), never a stack trace', () => {
  for (const files of [aliasSite(99, 950_000), keysSite(20_000), chainSite(40), configSite(1_200_000), manyNodes(68, 1_000_000)]) {
    const root = writeRepo(tempDir('bounds-cli'), files);
    const c = runCli(['check', SITE], root);
    assert.is(c.code, 1, c.stderr);
    assert.not.ok(hasStackTrace(c.stderr), c.stderr);
    const b = runCli(['build', SITE, '--json', '--out', join(root, 'out')], root);
    assert.is(b.code, 1, b.stderr);
    const doc = JSON.parse(b.stdout) as { ok: boolean; diagnostics: { code: string }[] };
    assert.is(doc.ok, false);
    assert.ok(
      doc.diagnostics.some((d) =>
        /YAML_ALIAS_LIMIT|YAML_TOO_MANY_KEYS|NODE_PROFILE_CHAIN_TOO_LONG|RENDER_CONFIG_TOO_LARGE|RENDER_SITE_CONFIGS_TOO_LARGE/.test(
          d.code,
        ),
      ),
      b.stdout,
    );
  }
});

test.run();
