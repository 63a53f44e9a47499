// ARCHITECTURE.md "Adding a config format", proved by following it and nothing else: in a copy of
// the sources, one declaration file (an Ignition-like JSON config for an OS profile) and its line
// in src/derive/configs/index.ts, then `npm run gen:schema` (generated files). A site whose OS
// profile names the format then builds with the copy's CLI, and the new file is served (its
// nginx location), protected (the node's address only), keyed (nginx.file_key), pointed at by the
// kernel line, planned by verify (served to the node, refused to a stranger, no listing) and
// recognised by `status`, with no other change anywhere.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, copyWith, run } from './helpers/recipe.ts';

const DECLARATION = `// An Ignition-like config: one JSON file per OS node, by hostname.
import type { ConfigFormat } from './types.ts';

export const IGNITION_EXAMPLE: ConfigFormat = {
  name: 'ignition-example',
  title: 'Ignition config',
  holds: 'Ignition config',
  dir: 'ignition',
  owner: 'host',
  plain: (host) => \`ignition/\${host}.ign\`,
  pattern: (keyed) => ({
    nginx: '[a-z0-9]([a-z0-9-]*[a-z0-9])?\\\\.ign',
    status: \`([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\${keyed ? '-(?:[0-9a-f]{32}|x{32})' : ''}\\\\.ign\`,
  }),
  protection: { address: 'node', keyed: true, noStore: true },
  content: 'text',
  nginxComment: 'One Ignition config per OS node.',
  exposedWhenLocal: false,
  startsInstall: true,
  fetch: 'config',
  ownersOf: (node) => (node.boot === 'os' && node.os.configFormat === 'ignition-example' ? [node.hostname] : []),
  kernelArg: (url) => \`ignition.config.url=\${url}\`,
  scriptComment: { what: 'Ignition config', after: '' },
  osFiles: (_, node) => [{ name: '', contents: JSON.stringify({ ignition: { version: '3.4.0' }, storage: { files: [{ path: '/etc/hostname', contents: { source: \`data:,\${node.hostname}\` } }] } }) + '\\n' }],
};
`;

const SITE = `site: recipe
boot:
  server: http://10.9.0.1
network:
  cidr: 10.9.0.0/24
  gateway: 10.9.0.1
  dns: [10.9.0.1]
  dhcp_range: 10.9.0.100-10.9.0.199
nginx:
  file_key: { env: RECIPE_FILE_KEY }
os_profiles:
  flatcar:
    kernel: http://10.9.0.1/os/flatcar_production_pxe.vmlinuz
    initrds: [http://10.9.0.1/os/flatcar_production_pxe_image.cpio.gz]
    params: [flatcar.first_boot=1]
    config_format: ignition-example
nodes:
  - hostname: fc-1
    mac: 52:54:00:09:00:01
    ip: 10.9.0.11
    os: flatcar
`;

// The file key of the recipe's site (`nginx.file_key: { env: RECIPE_FILE_KEY }`), for the copy's CLI.
process.env.RECIPE_FILE_KEY = 'k'.repeat(40);

test('a new config format through the recipe alone: served, protected, keyed, on the kernel line, verified, recognised by status', async () => {
  // The recipe: 1. the declaration, 2. its line in the list, 3. the generated files (copyWith).
  const copy = copyWith('recipe', {
    'src/derive/configs/ignition-example.ts': DECLARATION,
    'src/derive/configs/index.ts': [
      [
        "import { NOCLOUD_SEED } from './nocloud.ts';",
        "import { NOCLOUD_SEED } from './nocloud.ts';\nimport { IGNITION_EXAMPLE } from './ignition-example.ts';",
      ],
      ['[HARVESTER_CONFIG, NOCLOUD_SEED]', '[HARVESTER_CONFIG, NOCLOUD_SEED, IGNITION_EXAMPLE]'],
    ],
  });

  const site = join(copy, 'sites', 'recipe');
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'site.yaml'), SITE);
  const out = join(copy, 'deploy');
  const build = cli(copy, ['build', site, '--out', out, '--deploy']);
  assert.is(build.code, 0, build.out + build.err);

  const tree = join(out, 'recipe');
  // Keyed: the file's name ends in a 128-bit tag; the plain name is not written.
  const files = readdirSync(join(tree, 'ignition'));
  assert.equal(files.length, 1, String(files));
  const name = files[0]!;
  assert.match(name, /^fc-1-[0-9a-f]{32}\.ign$/);
  const path = `ignition/${name}`;
  assert.equal(JSON.parse(readFileSync(join(tree, path), 'utf8')).ignition, { version: '3.4.0' });
  // Protected and listed: the manifest says who may fetch it, and nginx's exact location agrees.
  const manifest = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as {
    files: { path: string; url?: string; allow?: string[] }[];
  };
  const entry = manifest.files.find((f) => f.path === path);
  assert.equal(entry?.allow, ['10.9.0.11']);
  assert.is(entry?.url, `http://10.9.0.1/${path}`);
  const nginx = readFileSync(join(tree, 'nginx/harvgen.conf'), 'utf8');
  const loc = new RegExp(
    `location = /${path.replace(/\./g, '\\.')} \\{[\\s\\S]*?allow 10\\.9\\.0\\.11;\\s*deny all;\\s*alias [^;]*/${path.replace(/\./g, '\\.')};`,
  );
  assert.match(nginx, loc);
  // On the kernel line of the node's script, which names it in its header too.
  const scripts = readdirSync(join(tree, 'ipxe')).filter((f) => /-[0-9a-f]{32}\.ipxe$/.test(f));
  const script = readFileSync(join(tree, 'ipxe', scripts[0]!), 'utf8');
  assert.match(script, new RegExp(`ignition\\.config\\.url=http://10\\.9\\.0\\.1/${path.replace(/\./g, '\\.')}`));
  assert.match(script, /^# Ignition config: http:\/\/10\.9\.0\.1\/ignition\//m);

  // verify's plan: served to the node only, a random name refused, no listing of its directory.
  const plan = run(copy, [
    '--input-type=module',
    '-e',
    `import { readDeployManifest } from './src/verify/manifest.ts';
     import { planSite, serverFor } from './src/verify/plan.ts';
     const r = readDeployManifest(${JSON.stringify(tree)});
     const checks = planSite(r.manifest, serverFor('http://10.9.0.1'));
     console.log(JSON.stringify(checks.map((c) => ({ path: c.rawPath, expect: c.expect }))));`,
  ]);
  assert.is(plan.code, 0, plan.err);
  const checks = JSON.parse(plan.out) as { path: string; expect: { kind: string; allow?: string[]; type?: string; what?: string } }[];
  const served = checks.find((c) => c.path === `/${path}`);
  assert.equal(served?.expect.kind, 'served');
  // The node's address, after the boot server's own (verify run there reads every file).
  assert.equal(served?.expect.allow, ['127.0.0.0/8', '::1', '10.9.0.1', '10.9.0.11']);
  assert.is(served?.expect.type, 'text');
  assert.ok(
    checks.some((c) => c.expect.kind === 'refused' && /^\/ignition\/harvgen-probe-[0-9a-f]+\.ign$/.test(c.path)),
    'a name nobody built is refused',
  );
  assert.ok(
    checks.some((c) => c.expect.kind === 'refused' && c.path === '/ignition/'),
    'no listing of its directory',
  );
  assert.ok(
    checks.some((c) => c.expect.kind === 'refused' && c.path === '/ignition/fc-1.ign'),
    'its plain name is refused',
  );

  // status: the node's fetch of it is recognised (it starts the OS's install).
  const log = join(copy, 'access.log');
  const t = '24/Nov/2026:10:00:00 +0000';
  writeFileSync(
    log,
    [
      `10.9.0.11 - - [${t}] "GET /ipxe/${scripts[0]} HTTP/1.1" 200 900 "-" "iPXE/1.21.1"`,
      `10.9.0.11 - - [${t}] "GET /${path} HTTP/1.1" 200 200 "-" "Ignition/2.19"`,
    ].join('\n') + '\n',
  );
  const status = cli(copy, ['status', site, '--log', log, '--json']);
  const doc = JSON.parse(status.out) as { nodes: { hostname: string; fetches: Record<string, { count: number }> }[] };
  const node = doc.nodes.find((n) => n.hostname === 'fc-1');
  assert.is(node?.fetches.config?.count, 1, status.out + status.err);
});

test.run();
