// The built CLI prints the OCI client's warnings: `harvgen publish --insecure` and `harvgen pull
// --insecure` against a registry whose token service is on another host (127.0.0.2) say so on
// stderr, with no credential in the line, and whatever then fails fails without a stack trace.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hasStackTrace } from './helpers/cli.ts';
import { startHostileRegistry } from './helpers/hostile-registry.ts';
import { publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));
const password = 'warning-test-secret-pw';

/** `harvgen <args>` without blocking this process (the fake registry answers from it). */
function harvgen(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, NO_COLOR: '1', HARVGEN_REGISTRY_USERNAME: 'u', HARVGEN_REGISTRY_PASSWORD: password };
    execFile(process.execPath, [bin, ...args], { cwd, env, timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }),
    );
  });
}

test('publish and pull print a warning when the token service is on another host than the registry', async () => {
  const tokens = await startHostileRegistry({ address: '127.0.0.2' });
  const reg = await startHostileRegistry();
  try {
    tokens.on('/token', { kind: 'token', token: 'T' });
    reg.on(/^\/v2\//, { kind: 'bearer', realm: `http://${tokens.host}/token`, service: 'reg', accept: 'Bearer T' });
    const repo = publishedRepo(`${reg.host}/harvgen`, { bootServer: { base: tempDir('cli-registry-warning') } });
    const config = await repo.pullConfig(tempDir('cli-registry-warning-pull'));
    const runs = {
      publish: await harvgen(['publish', repo.site, '--insecure', '--record', tempDir('cli-registry-warning-rec')], repo.root),
      pull: await harvgen(['pull', '--config', config, '--insecure', '--no-verify'], repo.root),
    };
    for (const [command, r] of Object.entries(runs)) {
      const warning = r.stderr.split('\n').filter((l) => l.startsWith('harvgen: warning: '));
      assert.is(warning.length, 1, `${command}: ${r.stderr}`);
      assert.match(warning[0]!, `${tokens.host}, another host than the registry`);
      assert.not.match(r.stderr, password);
      assert.not.ok(hasStackTrace(r.stderr), r.stderr);
    }
    assert.ok(tokens.requests.length >= 2, 'both commands fetched a token');
  } finally {
    await reg.close();
    await tokens.close();
  }
});

test.run();
