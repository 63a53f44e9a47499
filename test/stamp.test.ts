// Stamping (src/render/stamp.ts): a per-node template rendered once per family and filled per
// node must give the bytes of a plain render, and refuse every value the plain render refuses,
// with the same message. Each stamped template's code is checked to use its holes only as an
// escaper's first argument, and the check is shown catching each other use. test/fast-path.test.ts
// compares whole trees (every fixture, a rich inventory) with and without stamping.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkHoles, resetStamps, STAMPED, stampStats } from '../src/render/stamp.ts';
import { oneBucketForTests } from '../src/render/family.ts';
import { renderPart, renderTemplate } from '../src/render/templates.ts';
import { generateRichRepo, nodeFile, RICH_TOKEN_ENV } from '../bench/gen.ts';
import { build, watch, type WatchEvent } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const templates = resolve(import.meta.dirname, '../templates');
const source = (name: string) => readFileSync(join(templates, `${name}.eta`), 'utf8');

/** The text, or the error's message, of a render. */
function outcome(render: () => string): string {
  try {
    return `text:${render()}`;
  } catch (e) {
    return `error:${(e as Error).message}`;
  }
}
const stampedRender = (name: string, data: object) => outcome(() => renderTemplate(name, data));
const plainRender = (name: string, data: object) => outcome(() => renderPart(`${name}.eta`, data));

test('each stamped template uses its holes only as an escaper first argument, and uses every hole it declares', () => {
  for (const [name, holes] of Object.entries(STAMPED)) {
    const src = source(name);
    assert.equal(checkHoles(src, holes), [], name);
    for (const h of [...holes.values, ...holes.lists, ...Object.keys(holes.records ?? {})])
      assert.ok(src.includes(`it.${h}`), `${name}: hole ${h} is not in the template`);
    for (const subs of Object.values(holes.records ?? {}))
      for (const s of subs) assert.match(src, new RegExp(`\\b\\w+\\.${s}\\b`), `${name}: ${s}`);
  }
});

test('the check refuses a hole used any other way (each mutation of node-install.ipxe caught)', () => {
  const holes = STAMPED['node-install.ipxe']!;
  const src = source('node-install.ipxe');
  const mutations: Record<string, string> = {
    'a comparison': `<% if (it.hostname === 'x') { -%>x<% } -%>`,
    'a condition': `<% if (it.mac) { -%>x<% } -%>`,
    'a concatenation': `<%= it.esc.ipxeText(it.hostname + '-a') %>`,
    'a raw output': `<%~ it.hostname %>`,
    'an unescaped output': `<%= it.configUrl %>`,
    'another argument': `<%= it.esc.ipxeOn(it.kernelUrl, it.mac) %>`,
    'a method': `<%= it.esc.ipxeText(it.hostname.toUpperCase()) %>`,
    'a list element unescaped': `<% for (const z of it.kernelArgs) { %><%= z %><% } %>`,
    'a list by index': `<%= it.esc.ipxe(it.kernelArgs[0]) %>`,
    'the list length': `<%= it.esc.int(it.kernelArgs.length) %>`,
    'a record field concatenated (the form before stamping)': `<% for (const q of it.served) { %><%= it.esc.ipxeText(q.url + q.after) %><% } %>`,
    'a record whole': `<% for (const q of it.served) { %><%= it.esc.ipxeText(JSON.stringify(q)) %><% } %>`,
    'it whole': `<%= it.esc.ipxeText(JSON.stringify(it)) %>`,
    'an include': `<%~ include('./boot.ipxe', it) %>`,
    'the escapers passed on': `<% const e = it.esc; %>`,
    "the escaper's result changed": `<%= it.esc.ipxe(it.mac).replace(/:/g, '') %>`,
    "the escaper's result kept in code": `<% const m = it.esc.ipxe(it.mac) %><%= m %>`,
    "the escaper's result in a condition": `<% if (it.esc.ipxe(it.mac).startsWith('aa')) { %>x<% } %>`,
    'another object named like the escapers': `<% const myit = { esc: it.esc }; %><%= myit.esc.ipxe(it.mac) %>`,
    'a code tag with whitespace control': `<%_ it.mac %>`,
    'an escape sequence in a name': `<%= it.esc.ipxe(it.m\\u0061c) %>`,
    'by index': `<%= it.esc.ipxe(it['mac']) %>`,
    'a tag that ends inside a string': `<% const q = "%>"; it.esc.ipxe(it.mac) %>`,
    'a list element declared twice': `<% for (const a of it.initrds) { %><%= it.esc.ipxe(a.url) %><% } %>`,
    'a record hole field passed on': `<% for (const q of it.served) { %><%= it.esc.ipxeOn(q.what, q.url) %><% } %>`,
  };
  for (const [what, line] of Object.entries(mutations)) {
    const mutant = src.replace('set harvgen_try:int32 0\n', `${line}\nset harvgen_try:int32 0\n`);
    assert.ok(mutant !== src, what);
    assert.ok(checkHoles(mutant, holes).length > 0, `not caught: ${what}`);
  }
});

/** The data install-script.ts gives node-install.ipxe, with a node's own values. */
function installData(n: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const os = n % 3 === 2;
  return {
    site: 'lab',
    unknown: false,
    hostname: `node-${n}`,
    role: n % 2 === 0 ? 'join' : 'create',
    mac: `52:54:00:00:00:${(n % 256).toString(16).padStart(2, '0')}`,
    once: n % 5 === 0,
    marker: 'file://COS_GRUB/EFI/BOOT/bootx64.efi',
    generation: n % 7 === 0 ? 2 : undefined,
    retries: 3,
    retryDelay: 5,
    arch: 'x86_64',
    waitSeconds: 60,
    kernelUrl: 'http://10.0.0.5:8080/artifacts/vmlinuz',
    kernelArgs: ['initrd=initrd', `ip=10.0.1.${n}::10.0.0.1:255.255.0.0:node-${n}:eno1:none`, ...(n % 4 === 0 ? ['vlan=vlan20:eno1'] : [])],
    initrds: [{ name: 'initrd', url: 'http://10.0.0.5:8080/artifacts/initrd' }],
    shimUrl: undefined,
    shimImage: undefined,
    os: os ? 'rocky9' : undefined,
    served: os ? [{ what: 'cloud-init NoCloud data', after: '{user-data,meta-data}', url: `http://10.0.0.5:8080/cloud-init/${n}/` }] : [],
    version: os ? undefined : 'v1.6.0',
    configUrl: os ? undefined : `http://10.0.0.5:8080/harvester/node-${n}.yaml`,
    what: os ? 'rocky9' : 'the Harvester v1.6.0 installer',
    whatShort: os ? 'rocky9' : 'the installer',
    artifactsBase: os ? undefined : 'http://10.0.0.5:8080/artifacts',
    origins: n % 6 === 0 ? ['http://10.0.0.5:8080'] : [],
    failover: undefined,
    ...over,
  };
}

test('node-install.ipxe: 400 nodes in a few families, stamped and plain, byte for byte', () => {
  resetStamps();
  for (let n = 0; n < 400; n++) {
    const data = installData(n);
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data), `node ${n}`);
  }
  const stats = stampStats('node-install.ipxe')!;
  assert.ok(stats.families < 60 && stats.served > 300 && !stats.off, JSON.stringify(stats));
});

test('a hostile hole value is refused as the plain render refuses it, and changes no other node', () => {
  resetStamps();
  const hostile: Record<string, unknown>[] = [
    { hostname: 'a b' },
    { hostname: 'x\ngoto evil' },
    { hostname: '${evil}' },
    { mac: '#comment' },
    { configUrl: 'http://x/ y' },
    { kernelArgs: ['initrd=initrd', 'ip=a b'] },
    { kernelArgs: ['initrd=initrd', '||'] },
    { hostname: `\uE000${'0'.repeat(16)}:0\uE001` },
    { hostname: '\uE002' + '0\uE003' },
    {
      served: [{ what: 'cloud-init NoCloud data', after: '{user-data,meta-data}', url: 'http://x/$y/' }],
      os: 'rocky9',
      version: undefined,
      configUrl: undefined,
    },
  ];
  for (const [i, over] of hostile.entries()) {
    // A good member of the family first, so that the hostile one is filled from its stamp.
    assert.is(stampedRender('node-install.ipxe', installData(8)), plainRender('node-install.ipxe', installData(8)));
    const bad = installData(8, over);
    const s = stampedRender('node-install.ipxe', bad);
    assert.is(s, plainRender('node-install.ipxe', bad), `case ${i}`);
  }
  // Still the same text for a good node after them.
  assert.is(stampedRender('node-install.ipxe', installData(9)), plainRender('node-install.ipxe', installData(9)));
});

test('a value holding a reserved character in a shared field: that family is rendered plainly, the same', () => {
  resetStamps();
  for (const site of ['lab\uE000', 'lab\uE002', 'lab\uE0030\uE003']) {
    const a = installData(1, { site });
    const b = installData(3, { site });
    assert.is(stampedRender('node-install.ipxe', a), plainRender('node-install.ipxe', a));
    assert.is(stampedRender('node-install.ipxe', b), plainRender('node-install.ipxe', b));
  }
});

test('node-iscsi.ipxe: stamped and plain, byte for byte', () => {
  resetStamps();
  for (let n = 0; n < 50; n++) {
    const data = {
      site: 'lab',
      hostname: `disk-${n}`,
      mac: `52:54:00:00:01:${n.toString(16).padStart(2, '0')}`,
      server: '10.0.0.6',
      port: 3260,
      lun: n % 2,
      target: `iqn.2026-11.net.example:store-${n}`,
      initiator: `iqn.2010-04.org.ipxe:disk-${n}`,
      rootPath: `iscsi:10.0.0.6::3260:${n % 2}:iqn.2026-11.net.example:store-${n}`,
      retries: 3,
      retryDelay: 5,
    };
    assert.is(stampedRender('node-iscsi.ipxe', data), plainRender('node-iscsi.ipxe', data), `node ${n}`);
  }
  assert.is(stampStats('node-iscsi.ipxe')!.families, 2);
});

test('families told apart when they share a hash bucket, and a shared list changed after its family was made', () => {
  resetStamps();
  // Every family in one bucket: each lookup is decided by the comparison alone.
  oneBucketForTests(true);
  try {
    familiesToldApart();
  } finally {
    oneBucketForTests(false);
  }
});

test('values alike but in their middle are hashed apart (a lookup compares with few families)', () => {
  resetStamps();
  for (let n = 0; n < 40; n++) {
    const data = installData(2, { marker: `file://COS_GRUB/harvgen/lab/hv-${String(n).padStart(4, '0')}.1` });
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data));
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data));
  }
  const stats = stampStats('node-install.ipxe')!;
  assert.is(stats.families, 40);
  assert.ok(stats.buckets >= 38, JSON.stringify(stats));
});

function familiesToldApart(): void {
  // Alike in length and ends, and -0 against 0: each its own family.
  for (const site of ['lab1x', 'lab2x', 'lab1x', 'lab2x']) {
    const data = installData(2, { site });
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data), site);
  }
  assert.is(stampStats('node-install.ipxe')!.families, 2);
  for (const retries of [0, -0, 0]) {
    const data = installData(2, { retries });
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data));
  }
  // (-0 is written as 0: the family count alone shows it is a family of its own, as the key text made it.)
  assert.is(stampStats('node-install.ipxe')!.families, 4);
  // A list shared by the nodes (the release's initrds), changed in place between two of them: the
  // family made before the change does not serve the node after it.
  const initrds = [{ name: 'initrd', url: 'http://10.0.0.5:8080/artifacts/initrd' }];
  const first = installData(6, { initrds });
  assert.is(stampedRender('node-install.ipxe', first), plainRender('node-install.ipxe', first));
  initrds[0]!.name = 'inixrd';
  const second = installData(18, { initrds });
  assert.is(stampedRender('node-install.ipxe', second), plainRender('node-install.ipxe', second));
  assert.ok(plainRender('node-install.ipxe', second).includes('--name inixrd '));
}

test('a value filled in as the node before it was takes its text; the next different one is escaped again', () => {
  resetStamps();
  const same = installData(3);
  for (let i = 0; i < 3; i++) assert.is(stampedRender('node-install.ipxe', same), plainRender('node-install.ipxe', same));
  for (const hostname of ['node-3', 'node-3b', 'a b', 'node-3b']) {
    const data = installData(3, { hostname });
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data), hostname);
  }
});

test('every node its own family: stamping turns itself off for the template, and the texts stay the same', () => {
  resetStamps();
  for (let n = 0; n < 100; n++) {
    const data = installData(1, { site: `site-${n}` });
    assert.is(stampedRender('node-install.ipxe', data), plainRender('node-install.ipxe', data));
  }
  const stats = stampStats('node-install.ipxe')!;
  assert.ok(stats.off, JSON.stringify(stats));
  assert.is(stats.families, 64);
});

test('a watch edit to the address of one node re-fills its holes from the families made: none is made again', async () => {
  process.env[RICH_TOKEN_ENV] ??= 'bench-env-token-0123456789abcdef';
  resetStamps();
  const root = tempDir('stamp-watch');
  const [siteDir] = generateRichRepo(root, 1, 24);
  const sites = [siteDir!.slice(root.length + 1)];
  const events: WatchEvent[] = [];
  let notify: () => void = () => undefined;
  const handle = watch({ cwd: root, sites, outDir: 'out-watch', debounceMs: 30, onBuild: (e) => (events.push(e), notify()) });
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok);
    const before = stampStats('node-install.ipxe')!;
    assert.ok(before.made > 0 && before.served > 0, JSON.stringify(before));
    const script = () => readFileSync(join(root, 'out-watch/r000/ipxe/b4-96-01-10-00-07.ipxe'), 'utf8');
    assert.ok(script().includes('ip=10.100.1.8::'), 'the address is a kernel argument of its install script');
    let timer: NodeJS.Timeout | undefined;
    const rebuilt = new Promise<void>((r) => {
      notify = r;
      timer = setTimeout(r, 20_000);
    });
    const file = nodeFile(root, 0, 7);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ip: [^\n]*/m, 'ip: 10.100.1.88'));
    await rebuilt;
    clearTimeout(timer);
    assert.is(events.length, 2, 'rebuilt once');
    assert.ok(events[1]!.result.ok);
    const after = stampStats('node-install.ipxe')!;
    assert.ok(script().includes('ip=10.100.1.88::'), 'the new address is in the script');
    // Only the edited node was rendered again: its script filled from its family, no family made.
    assert.is(after.made, before.made, 'no family made');
    assert.is(after.families, before.families);
    assert.ok(after.served > before.served && after.served - before.served <= 2, JSON.stringify({ before, after }));
    const fresh = await build({ cwd: root, sites, outDir: 'out-fresh' });
    assert.ok(fresh.ok);
    const [watched, built] = [readTree(join(root, 'out-watch')), readTree(join(root, 'out-fresh'))];
    const differ = [...new Set([...watched.keys(), ...built.keys()])].filter(
      (p) => !p.includes('.harvgen') && watched.get(p) !== built.get(p),
    );
    assert.equal(differ, [], 'byte-identical to a fresh build');
  } finally {
    await handle.close();
  }
});

test.run();
