// `nginx.access: open` with `nginx.file_key` and boot images (medium: iso, usb), proved with a real
// nginx in a network namespace. An image names its nodes' keyed scripts and each script its node's
// config, so a BMC (or anyone who reads its virtual media URL) must get the image and nothing
// secret with it: from a BMC's address, which is no node's, each image is fetched, its files read by
// xorriso (the ISO) and mtools (its FAT image), and every URL in them followed, and every URL in what
// that gets (test/real/helpers/crawl.ts); no answer holds the token, the password, its hash or the
// file key, or any bound file's bytes. Each node's own address gets its config; the files of the
// nodes that boot from the network stay open to all, as `open` says. Mutation: the config of
// before (those configs served by the patterns, to everyone) is caught by the same crawl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { build, type Manifest } from '../../src/index.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns, type Netns } from './helpers/netns.ts';
import { prepareNginx, startNginx, nginxTest, nginxFailure } from './helpers/nginx.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { accessProblems, addAddresses, fetchFrom, outsider } from './helpers/access.ts';
import { crawl, type CrawlReport, type Secret } from './helpers/crawl.ts';
import { hostPort, type SiteTree } from './helpers/tree.ts';
import { mediaLoaders } from '../helpers/media.ts';
import { tempDir } from '../helpers/tmp.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/access');
const FILE_KEY = 'media-access-file-key-0123456789abcdef0123456789abcdef';
/** The media nodes and their BMCs, on a management network of their own (no node's address): two share the ISO (its table names both), one the USB image. */
const MEDIA_NODES = [
  { hostname: 'ac-iso', mac: '52:54:00:ac:00:07', ip: '10.77.0.17', method: 'static', medium: 'iso', bmc: { address: '10.88.0.17' } },
  { hostname: 'ac-iso2', mac: '52:54:00:ac:00:09', ip: '10.77.0.19', method: 'static', medium: 'iso', bmc: { address: '10.88.0.19' } },
  {
    hostname: 'ac-usb',
    mac: '52:54:00:ac:00:08',
    ip: '10.77.0.18',
    method: 'static',
    medium: 'usb',
    os: 'tiny',
    bmc: { address: '10.88.0.18' },
    cloud_init: { user_data: { runcmd: [['sh', '-c', 'echo media-seed > /tmp/marker']] } },
  },
];

/** The access fixture (network nodes of every kind) with the two media nodes, open and keyed, built with its secrets. */
async function buildSite(): Promise<SiteTree> {
  const root = tempDir('media-access');
  const out = path.join(root, 'out');
  const doc = parse(readFileSync(path.join(FIXTURE, 'site.yaml'), 'utf8')) as Record<string, any>;
  doc.nginx = { access: 'open', file_key: FILE_KEY };
  doc.boot.media_loaders = mediaLoaders(path.join(root, 'loaders'));
  doc.nodes.push(...MEDIA_NODES);
  const dir = path.join(root, 'sites', doc.site as string);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
  const r = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  const manifest = JSON.parse(readFileSync(path.join(out, doc.site as string, 'manifest.json'), 'utf8')) as Manifest;
  return {
    label: 'access fixture with media (open, keyed)',
    site: doc.site,
    dir: path.join(out, doc.site),
    manifest,
    input: doc as SiteTree['input'],
    sourceDir: dir,
  };
}

let built: Promise<SiteTree> | undefined;
const site = () => (built ??= buildSite());

/** What no answer to a BMC may hold: the token, the password and its hash as the config holds it, the file key. */
function secretsOf(tree: SiteTree): Secret[] {
  const cluster = tree.input.cluster as { token: string; password: string };
  const config = tree.manifest.nodes.find((n) => n.hostname === 'ac-iso')!.config!;
  const hash = (parse(readFileSync(path.join(tree.dir, config.path), 'utf8')) as { os: { password: string } }).os.password;
  assert.match(hash, /^\$6\$/, 'the config holds the password as a SHA-512 crypt hash');
  return [
    { what: 'the cluster token', value: cluster.token },
    { what: 'the password', value: cluster.password },
    { what: 'the password hash', value: hash },
    { what: 'the file key', value: FILE_KEY },
  ];
}

/** Serve `tree` (its nginx/harvgen.conf, or `conf`) inside `ns` at its generated address. */
async function serve<T>(ns: Netns, tree: SiteTree, fn: () => Promise<T>, conf?: string): Promise<T> {
  const server = hostPort(tree.manifest.boot.server);
  await addAddresses(ns, [server.host]);
  const prefix = tempDir('media-access-nginx');
  const snippet = conf ?? readFileSync(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: tree.dir, artifactsDir: path.join(prefix, 'artifacts') } });
  const t = await nginxTest(setup, ns);
  assert.ok(t.code === 0, `nginx -t rejected the config:\n${await nginxFailure(setup, t)}`);
  const d = await startNginx(setup, server, ns);
  try {
    return await fn();
  } finally {
    await d.stop();
  }
}

/** Each image crawled from the BMC of its first node; a leak is a secret or a bound file's bytes in a 200. */
async function crawlImages(ns: Netns, tree: SiteTree): Promise<{ reports: Map<string, CrawlReport>; leaks: string[] }> {
  const server = hostPort(tree.manifest.boot.server);
  const bound = new Map(tree.manifest.files.filter((f) => f.allow).map((f) => [f.sha256, f.path]));
  const reports = new Map<string, CrawlReport>();
  const leaks: string[] = [];
  for (const m of MEDIA_NODES) {
    const image = tree.manifest.nodes.find((n) => n.hostname === m.hostname)!.medium!.url;
    if (reports.has(image)) continue;
    const dir = tempDir(`media-access-crawl-${m.hostname}`);
    const r = await crawl({ ns, server, from: m.bmc.address, start: [image], secrets: secretsOf(tree), dir });
    reports.set(image, r);
    leaks.push(...r.leaks.map((l) => `from ${m.bmc.address}: ${l}`));
    for (const f of r.fetched)
      if (f.status === 200 && f.sha256 && bound.has(f.sha256))
        leaks.push(`from ${m.bmc.address}: ${f.url}: ${bound.get(f.sha256)}'s bytes`);
  }
  return { reports, leaks };
}

test('open + file_key: a BMC that fetches each boot image and follows every URL in it, and in what it gets, gets no secret; each node gets its own config from its address', async () => {
  if (!requireProgram('nginx', 'ip', 'xorriso', 'mcopy') || !requireRoot()) return;
  const tree = await site();
  const bound = tree.manifest.files.filter((f) => f.allow);
  await withNetns('media-access', (ns) =>
    serve(ns, tree, async () => {
      const server = hostPort(tree.manifest.boot.server);
      const { reports, leaks } = await crawlImages(ns, tree);
      assert.equal(leaks, [], 'nothing secret reached from an image');
      // What stays bound under open: the media nodes' config and seed, nothing of the network nodes.
      assert.equal(
        bound.map((f) => [f.path.replace(/-[0-9a-f]{32}/, '-<tag>'), f.allow]),
        [
          ['cloud-init/52-54-00-ac-00-08-<tag>/meta-data', ['10.77.0.18']],
          ['cloud-init/52-54-00-ac-00-08-<tag>/user-data', ['10.77.0.18']],
          ['cloud-init/52-54-00-ac-00-08-<tag>/vendor-data', ['10.77.0.18']],
          ['harvester/ac-iso-<tag>.yaml', ['10.77.0.17']],
          ['harvester/ac-iso2-<tag>.yaml', ['10.77.0.19']],
        ],
      );
      assert.is(reports.size, 2, 'one shared image per medium');
      const reached = new Map<string, number>();
      for (const [image, r] of reports) {
        assert.equal(
          r.fetched[0],
          { url: image, status: 200, depth: 0, sha256: r.fetched[0]!.sha256, size: r.fetched[0]!.size },
          'the BMC gets the image',
        );
        assert.is(r.cut, 0, 'the crawl followed every URL it found');
        assert.equal(r.elsewhere, [], 'every URL is on the boot server');
        // The image's table names the script of every node that shares it.
        for (const n of tree.manifest.nodes.filter((x) => x.medium?.url === image))
          for (const s of n.ipxe) assert.ok(r.fromImages.includes(s.url), `${image} names ${s.url}`);
        for (const f of r.fetched) if (f.status !== 0) reached.set(f.url, f.status);
      }
      // Each script names its config: the crawl got to every bound file, and was refused.
      for (const f of bound) assert.is(reached.get(f.url!), 403, `${f.url}: reached and refused (${reached.get(f.url!)})`);
      const requests = [...reports.values()].reduce((n, r) => n + r.fetched.length, 0);
      console.log(
        `  media-access: ${requests} requests from the BMCs, ${[...reports.values()].map((r) => r.fromImages.length).join(' and ')} URLs in the images`,
      );
      // Each node's own address gets its files; the other media node's does not; a stranger does not by another spelling.
      const checks: { path: string; from: string; want: number; sha256?: string }[] = [];
      for (const f of bound) {
        const p = new URL(f.url!).pathname;
        const own = f.allow![0]!;
        const other = MEDIA_NODES.find((m) => m.ip !== own)!.ip;
        checks.push({ path: p, from: own, want: 200, sha256: f.sha256 }, { path: p, from: other, want: 403 });
        const [dir, name] = [p.slice(0, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1)];
        for (const spelled of [
          `${dir}//${name}`,
          `${dir}/./${name}`,
          `${dir}/../${dir.split('/').pop()}/${name}`,
          `${dir}/${name.replace(/-/, '%2d')}`,
        ])
          checks.push({ path: spelled, from: MEDIA_NODES[0]!.bmc.address, want: 403 });
      }
      const got = await fetchFrom(
        ns,
        server,
        checks.map(({ path: p, from }) => ({ path: p, from })),
      );
      const wrong = checks.flatMap((c, i) =>
        got[i]!.status !== c.want || (c.sha256 && got[i]!.sha256 !== c.sha256)
          ? [`GET ${c.path} from ${c.from}: ${got[i]!.status}, expected ${c.want}`]
          : [],
      );
      assert.equal(wrong, []);
      const config = bound.find((f) => f.path.startsWith('harvester/'))!;
      assert.ok(
        readFileSync(path.join(tree.dir, config.path), 'utf8').includes((tree.input.cluster as { token: string }).token),
        'the config the node gets holds the token',
      );
      // Everything else as `open` says: the network nodes' configs, the join config and the scripts to all.
      const other = outsider(tree.input.network.cidr, tree.manifest, [server.host, tree.input.network.gateway, '10.77.0.10']);
      const r = await accessProblems({ ns, server, expected: tree.manifest, other });
      assert.equal(r.problems, [], r.problems.join('\n'));
      assert.is(r.protectedFiles, 5);
      assert.ok(r.openFiles > 10, `${r.openFiles} open files`);
    }),
  );
});

test("mutation: the config of before (the media nodes' configs and seeds served by the patterns, to everyone) is caught by the crawl, every bound file", async () => {
  if (!requireProgram('nginx', 'ip', 'xorriso', 'mcopy') || !requireRoot()) return;
  const tree = await site();
  const conf = readFileSync(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  const before = withoutRestrictedLocations(conf);
  assert.ok(before !== conf && !/deny all;/.test(before), 'the mutation removed every restricted location');
  await withNetns('media-access-mutant', (ns) =>
    serve(
      ns,
      tree,
      async () => {
        const { leaks } = await crawlImages(ns, tree);
        assert.ok(
          leaks.some((l) => l.includes('holds the cluster token')),
          leaks.join('\n'),
        );
        assert.ok(
          leaks.some((l) => l.includes('holds the password hash')),
          leaks.join('\n'),
        );
        for (const f of tree.manifest.files.filter((x) => x.allow))
          assert.ok(
            leaks.some((l) => l.endsWith(`${f.path}'s bytes`)),
            `${f.path} leaked to the BMC was not caught:\n${leaks.join('\n')}`,
          );
      },
      before,
    ),
  );
});

/** The generated config without its `location = ... { ... deny all; }` blocks: the patterns then serve those files. */
function withoutRestrictedLocations(conf: string): string {
  const out: string[] = [];
  let block: string[] | undefined;
  for (const line of conf.split('\n')) {
    if (/^ {4}location = /.test(line)) block = [];
    if (block) {
      block.push(line);
      if (line === '    }') {
        if (!block.some((l) => /^\s*deny all;/.test(l))) out.push(...block);
        block = undefined;
      }
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

test.run();
