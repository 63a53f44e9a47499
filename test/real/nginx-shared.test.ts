// Several sites on one boot server, as docs/deploy.md tells users to set it up: each site under its
// own path prefix, one server block that includes every site's nginx/locations.conf. A real
// nginx accepts it (nginx -t) and serves each site's scripts, configs and release files, and
// nothing else.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { build, type Manifest } from '../../src/index.ts';
import { requireProgram } from './helpers/programs.ts';
import { startNginx, nginxTest, nginxFailure, wrapVerbatim, sharedServerBlock } from './helpers/nginx.ts';
import { freePort, httpGet } from './helpers/http.ts';
import { tempDir } from '../helpers/tmp.ts';
import { exampleSite, ownMacs } from '../helpers/example.ts';

test('two sites on one server: nginx -t accepts the shared server block and each site is served under its prefix', async () => {
  if (!requireProgram('nginx')) return;
  const root = tempDir('shared-real');
  const out = path.join(root, 'out');
  const artifacts = path.join(root, 'artifacts');
  const base = exampleSite();
  const dirs: string[] = [];
  for (const name of ['site_a', 'site_b']) {
    const doc = structuredClone(base);
    doc.site = name as never;
    ownMacs(doc, name);
    doc.boot = { ...doc.boot, server: `http://192.168.122.1/${name}` };
    doc.harvester = { ...doc.harvester, artifacts: `http://192.168.122.1/${name}/artifacts/v1.4.1` };
    // The tree is "deployed" where it was built; the release files live in one shared directory.
    doc.nginx = { root: path.join(out, name), artifacts_dir: path.join(artifacts, 'v1.4.1') };
    const dir = path.join(root, name);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
    dirs.push(dir);
  }
  const r = await build({ sites: dirs, outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  await mkdir(path.join(artifacts, 'v1.4.1'), { recursive: true });
  await writeFile(path.join(artifacts, 'v1.4.1/harvester-v1.4.1-vmlinuz-amd64'), 'kernel bytes\n');

  // The server block of docs/deploy.md "Several sites on one boot server", on a test port.
  const port = await freePort();
  const setup = await wrapVerbatim(
    path.join(root, 'nginx'),
    sharedServerBlock(`127.0.0.1:${port}`, [path.join(out, 'site_a/nginx/locations.conf'), path.join(out, 'site_b/nginx/locations.conf')]),
  );
  const t = await nginxTest(setup);
  assert.ok(t.code === 0, `nginx -t rejected the shared server block:\n${await nginxFailure(setup, t)}`);
  const d = await startNginx(setup, { host: '127.0.0.1', port });
  try {
    const get = (p: string) => httpGet({ host: '127.0.0.1', port, path: p });
    for (const name of ['site_a', 'site_b']) {
      const manifest = JSON.parse(readFileSync(path.join(out, name, 'manifest.json'), 'utf8')) as Manifest;
      const served = manifest.files.filter((f) => f.url);
      assert.ok(served.length >= 8, `${name}: served files`);
      for (const f of served) {
        const res = await get(new URL(f.url!).pathname);
        // A node's config is served to its address (test/real/access.test.ts; refused from elsewhere)
        // and to the boot server itself, loopback included: here too.
        assert.is(res.status, 200, `${f.url} -> ${res.status}${f.allow ? ` (for ${f.allow.join(' ')} and the boot server)` : ''}`);
        assert.is(res.body.toString(), readFileSync(path.join(out, name, f.path), 'utf8'), `${f.url} bytes`);
      }
      assert.is((await get(`/${name}/artifacts/v1.4.1/harvester-v1.4.1-vmlinuz-amd64`)).status, 200, `${name} release file`);
      for (const p of [
        `/${name}/`,
        `/${name}/manifest.json`,
        `/${name}/nginx/locations.conf`,
        `/${name}/ipxe/`,
        `/${name}/ipxe/52-54-00-ff-ee-dd.ipxe`,
      ])
        assert.is((await get(p)).status, 404, `${p} must be 404`);
    }
    for (const p of ['/boot.ipxe', '/', '/site_c/boot.ipxe']) assert.is((await get(p)).status, 404, `${p} must be 404`);
  } finally {
    await d.stop();
  }
});

test.run();
