// Keyed file names (nginx.file_key; src/derive/file-names.ts): with a key, every known node's
// scripts, Harvester config and cloud-init seed get a name with a tag that is HMAC-SHA256 of
// the key over the plain path; the deploy tree writes the real tags everywhere the name lands
// (the kernel line, the per-MAC DHCP boot lines, nginx, manifest, embed.ipxe), the committed
// tree `x`s, and the plain names hold only a stub script. The real dnsmasq, nginx and QEMU
// proof is test/real/file-key.test.ts.
import { createHmac } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { compileSite, type Manifest } from '../src/index.ts';
import { readDeployManifest, type DeployManifest } from '../src/verify/manifest.ts';
import { planSite, serverFor } from '../src/verify/index.ts';
import { tempDir } from './helpers/tmp.ts';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/real/access');
const KEY = 'k3y-0123456789abcdef0123456789abcdef-harvgen';

/** A copy of the access fixture (Harvester nodes, an OS node with a seed, unknown machines joining) with `file_key`. */
function keyedSite(fileKey: unknown = { env: 'HARVGEN_FILE_KEY' }): string {
  const dir = join(tempDir('file-key'), 'access');
  cpSync(FIXTURE, dir, { recursive: true });
  const doc = parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  doc.nginx = { ...(doc.nginx ?? {}), file_key: fileKey };
  // Its lab network too (keyed names reach the lab's DHCP as well).
  doc.outputs = { lab: true };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

async function files(dir: string, mode: 'markers' | 'filled', key = KEY): Promise<Map<string, string>> {
  const site = await compileSite(dir, { secrets: mode, env: { HARVGEN_FILE_KEY: key } });
  assert.ok(site.artifacts, `no artifacts: ${JSON.stringify(site.diagnostics)}`);
  return new Map(
    site.artifacts!.map((a) => [a.path, typeof a.contents === 'string' ? a.contents : Buffer.from(a.contents).toString('latin1')]),
  );
}

/** The tag of a plain path, computed here from the definition (HMAC-SHA256 over version, site, path; 128 bits hex). */
function tag(key: string, site: string, plain: string): string {
  return createHmac('sha256', key).update(`harvgen file name v1\0${site}\0${plain}`).digest('hex').slice(0, 32);
}

test('deploy tree: every known node file has its keyed name, computed from the key, and the plain data names are gone', async () => {
  const out = await files(keyedSite(), 'filled');
  const m = JSON.parse(out.get('manifest.json')!) as Manifest;
  assert.is(m.boot.file_names, 'keyed');
  let keyed = 0;
  for (const n of m.nodes) {
    for (const s of n.ipxe) {
      const plain = `ipxe/${s.mac.replaceAll(':', '-')}.ipxe`;
      assert.is(s.path, `ipxe/${s.mac.replaceAll(':', '-')}-${tag(KEY, m.site, plain)}.ipxe`);
      assert.ok(out.has(s.path), s.path);
      // The plain name holds the stub, which boots nothing and names no keyed file.
      const stub = out.get(plain)!;
      assert.match(stub, /handed out by harvgen's DHCP only/);
      assert.not.match(stub, /[0-9a-f]{32}/);
      assert.not.match(stub, /^(kernel|chain|sanboot|imgfetch)/m);
      keyed++;
    }
    if (n.config) {
      const plain = `harvester/${n.hostname}.yaml`;
      assert.is(n.config.path, `harvester/${n.hostname}-${tag(KEY, m.site, plain)}.yaml`);
      assert.ok(out.has(n.config.path));
      assert.not.ok(out.has(plain), `${plain} is still written`);
      // Its script's kernel line names the keyed config (a node that boots its disk fetches none).
      if (n.state !== 'local')
        for (const s of n.ipxe) assert.ok(out.get(s.path)!.includes(`harvester.install.config_url=${n.config.url}`), s.path);
      keyed++;
    }
    for (const c of n.cloud_init ?? []) {
      const plain = `cloud-init/${c.mac.replaceAll(':', '-')}/`;
      const dir = `cloud-init/${c.mac.replaceAll(':', '-')}-${tag(KEY, m.site, plain)}/`;
      assert.ok(c.url.endsWith(dir), c.url);
      assert.ok(out.has(`${dir}user-data`) && out.has(`${dir}meta-data`));
      assert.not.ok(
        [...out.keys()].some((p) => p.startsWith(plain)),
        `${plain} is still written`,
      );
      const script = out.get(n.ipxe.find((s) => s.mac === c.mac)!.path)!;
      assert.ok(script.includes(c.url), 'the kernel line names the keyed seed');
      keyed++;
    }
  }
  assert.ok(keyed >= 6, `only ${keyed} keyed names`);
  // Unknown machines' join config is named by boot.ipxe, which anyone reads: never keyed.
  assert.ok(out.has('unknown/join.yaml'));
  // nginx serves exactly the keyed names, to the same addresses as before.
  const nginx = out.get('nginx/harvgen.conf')!;
  const guarded = m.files.filter((x) => x.allow);
  assert.ok(guarded.length >= 4);
  for (const f of guarded) assert.ok(nginx.includes(`/${f.path} {`), `nginx has no location for ${f.path}`);
});

test('DHCP: each known boot MAC gets its own script as iPXE, boot.ipxe only for the others, in dnsmasq and in the lab network', async () => {
  const out = await files(keyedSite(), 'filled');
  const m = JSON.parse(out.get('manifest.json')!) as Manifest;
  const conf = out.get('dnsmasq/harvgen.conf')!;
  const lab = out.get('libvirt/network.xml')!;
  for (const n of m.nodes) {
    for (const s of n.ipxe) {
      const t = `harvgen-${m.site}-${s.mac.replaceAll(':', '')}`;
      assert.ok(conf.includes(`dhcp-mac=set:${t},${s.mac}\n`), `${s.mac}: no per-MAC tag`);
      assert.ok(conf.includes(`dhcp-mac=set:harvgen-${m.site}-keyed,${s.mac}\n`), `${s.mac}: not excluded from boot.ipxe`);
      assert.match(conf, new RegExp(`^dhcp-boot=tag:harvgen-${m.site},tag:ipxe,tag:${t},${s.url.replace(/[.?]/g, '\\$&')}$`, 'm'));
      assert.ok(lab.includes(`dhcp-boot=tag:ipxe,tag:${t},${s.url}`), `${s.mac}: not in the lab network`);
    }
  }
  assert.match(
    conf,
    new RegExp(`^dhcp-boot=tag:harvgen-${m.site},tag:ipxe,tag:!harvgen-${m.site}-keyed,${m.boot.entry_url.replace(/[.?]/g, '\\$&')}$`, 'm'),
  );
  // embed.ipxe and the OCI launch script pick a known NIC's script themselves.
  for (const f of ['embed.ipxe', 'oci/launch.ipxe']) {
    const text = out.get(f)!;
    for (const s of m.nodes.flatMap((n) => n.ipxe))
      assert.ok(text.includes(`${s.mac.replaceAll(':', '-')} && set harvgen_entry ${s.url} ||`), `${f}: ${s.mac}`);
  }
});

test('committed tree: x in place of every tag, no name the key opens, and the same layout as the deploy tree', async () => {
  const dir = keyedSite();
  const committed = await files(dir, 'markers');
  const deploy = await files(dir, 'filled');
  const real = new Set([...deploy.keys()].flatMap((p) => [...p.matchAll(/-([0-9a-f]{32})[./]/g)].map((x) => x[1]!)));
  assert.ok(real.size >= 6);
  const all = [...committed.entries()].map(([p, c]) => `${p}\n${c}`).join('\n');
  for (const t of real) assert.not.ok(all.includes(t), `the committed tree holds the tag ${t}`);
  assert.not.ok(all.includes(KEY));
  const masked = (p: string) => p.replace(/-[0-9a-f]{32}([./])/g, `-${'x'.repeat(32)}$1`);
  assert.equal([...committed.keys()].sort(), [...deploy.keys()].map(masked).sort());
  // No key is read for the committed tree: an unset variable changes nothing.
  const site = await compileSite(dir, { secrets: 'markers', env: {} });
  assert.equal(
    site.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
});

test('deterministic; another key gives other names; no key gives the plain names', async () => {
  const dir = keyedSite();
  const a = await files(dir, 'filled');
  const b = await files(dir, 'filled');
  assert.equal([...a.entries()], [...b.entries()]);
  const c = await files(dir, 'filled', `${KEY}-other`);
  const tagsOf = (m: Map<string, string>) => new Set([...m.keys()].filter((p) => /-[0-9a-f]{32}[./]/.test(p)));
  const shared = [...tagsOf(a)].filter((p) => tagsOf(c).has(p));
  assert.equal(shared, []);
  const plain = await files(FIXTURE, 'filled');
  assert.not.ok([...plain.keys()].some((p) => /-[0-9a-f]{32}[./]/.test(p)));
  assert.ok(
    plain.has('ipxe/52-54-00-7a-00-01.ipxe') || [...plain.keys()].some((p) => /^ipxe\/([0-9a-f]{2}-){5}[0-9a-f]{2}\.ipxe$/.test(p)),
  );
});

test('a short key is refused where it is written; a missing one is an error only for the deploy tree', async () => {
  const short = await compileSite(keyedSite('too-short-key'), { secrets: 'filled' });
  const d = short.diagnostics.find((x) => x.code === 'FILE_KEY_TOO_SHORT');
  assert.ok(d, JSON.stringify(short.diagnostics));
  assert.ok(d!.line !== undefined && d!.hint!.includes('openssl rand'));
  const missing = await compileSite(keyedSite(), { secrets: 'filled', env: {} });
  assert.ok(missing.diagnostics.some((x) => x.code === 'SECRET_ENV_MISSING' && x.path === 'nginx.file_key'));
  const dir = keyedSite({ file: 'secrets/file-key' });
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets/file-key'), `${KEY}\n`, { mode: 0o600 });
  const fromFile = await files(dir, 'filled');
  const fromEnv = await files(keyedSite(), 'filled');
  assert.equal([...fromFile.keys()].sort(), [...fromEnv.keys()].sort());
});

test('an inline key is masked where it is written, whatever its YAML spelling (code frames, sources)', async () => {
  const dir = keyedSite();
  const text = readFileSync(join(dir, 'site.yaml'), 'utf8');
  // The key written with a YAML escape: its source text is not the value, so only its position can mask it.
  const spelled = `"${KEY.slice(0, 4)}\\x2d${KEY.slice(5)}"`;
  writeFileSync(join(dir, 'site.yaml'), text.replace(/file_key:[\s\S]*?\n(?=\S|$)/, `file_key: ${spelled}\n`));
  const site = await compileSite(dir, { secrets: 'filled' });
  assert.ok(
    site.diagnostics.some((d) => d.code === 'SECRET_INLINE' && d.path === 'nginx.file_key'),
    JSON.stringify(site.diagnostics),
  );
  const sources = Object.values(site.sources).join('\n');
  assert.ok(readFileSync(join(dir, 'site.yaml'), 'utf8').includes(spelled));
  assert.not.ok(sources.includes(spelled), 'the key as written is in the printed sources');
  assert.not.ok(JSON.stringify(site.diagnostics).includes(KEY.slice(5)));
});

test('verify: the plain names of keyed configs and seeds must not answer', async () => {
  const dir = keyedSite();
  const out = await files(dir, 'filled');
  const siteOut = tempDir('file-key-verify');
  writeFileSync(join(siteOut, 'manifest.json'), out.get('manifest.json')!);
  const read = readDeployManifest(siteOut);
  assert.ok('manifest' in read, JSON.stringify(read));
  const m = (read as { manifest: DeployManifest }).manifest;
  const manifest = JSON.parse(out.get('manifest.json')!) as Manifest;
  const want = [
    ...manifest.nodes.filter((n) => n.config).map((n) => `harvester/${n.hostname}.yaml`),
    ...manifest.nodes.flatMap((n) => (n.cloud_init ?? []).map((c) => `cloud-init/${c.mac.replaceAll(':', '-')}/user-data`)),
  ];
  assert.equal([...m.plainData!].sort(), want.sort());
  assert.ok(want.length >= 3);
  // Each is a probe that must be refused (403/404) on every server verify checks.
  const probes = planSite(m, serverFor(m.boot.server, 'http://127.0.0.1:9'));
  for (const p of want) {
    const probe = probes.find((c) => c.rawPath.endsWith(`/${p}`));
    assert.ok(probe && probe.expect.kind === 'refused', `no refused probe for ${p}`);
  }
});

test.run();
