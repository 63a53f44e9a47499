// The generated BMC scripts (docs/day-2.md "BMC scripts") run for real:
// - shellcheck, `sh -n` and `dash -n` on every generated shell script of every test site and the bmc fixture;
// - IPMI: the IPMI node's script against OpenIPMI's `ipmi_sim` (a real IPMI 2.0 LAN BMC simulator,
//   its chassis driven by a small program that keeps the power state and boot device in files),
//   through the real `ipmitool`; the simulator's state must change as the subcommand says;
// - Redfish: the Redfish scripts against the test Redfish service (helpers/redfish-server.ts, written
//   from the DMTF schemas, over HTTPS), which records each request: method, path, headers, JSON
//   body, Basic auth; and against the requests of sushy, OpenStack's Redfish client library, for the
//   same operations. The vendor quirks are in bmc-quirks.test.ts; OpenStack's sushy-tools emulator,
//   which CI cannot install, in bmc-sushy-tools.test.ts (opt-in). curl and ipmitool are wrapped
//   (first on PATH) to record their argv: the password must never be there (curl gets it on
//   standard input, ipmitool in its environment).
// - a node's own boot ISO (`medium: iso`): `media-boot` and `eject` against the same service, which
//   fetches the image from a loopback HTTP server as a BMC does and records the bytes' SHA-256.
// Mutations: a script that sets the wrong boot device, or the wrong Redfish target, or resets the
// machine before its ISO is in, is caught.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync, createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { build } from '../../src/index.ts';
import { mediaLoaders } from '../helpers/media.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram, findProgram } from './helpers/programs.ts';
import { describe, run, startDaemon, waitFor, type RunResult } from './helpers/proc.ts';
import { getTrees } from './helpers/tree.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { certificate, startRedfishServer, type RecordedRequest, type RedfishServer } from './helpers/redfish-server.ts';

const PASSWORD = `pw'"$x\\y`; // quotes, a `$` and a backslash: curl's config syntax must carry them
const IPMI_PW = "s3cr'et$x"; // ipmi_sim's lan.conf cannot hold a `"` or a space
const USER = 'admin';

/** Every file under dir (relative paths). */
function walk(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, path.join(rel, e.name)) : [path.join(rel, e.name)],
  );
}

async function buildSite(site: string, label: string, deploy = false): Promise<string> {
  const out = path.join(tempDir(label), 'out');
  // The deploy tree holds the images (the committed tree lists them only).
  const r = await build({ sites: [site], outDir: out, cwd: REPO_ROOT, ...(deploy ? { secrets: 'filled' as const } : {}) });
  assert.ok(r.ok, JSON.stringify(r.diagnostics, null, 2));
  return r.sites[0]!.dir;
}

test('shellcheck and sh -n accept every generated shell script of every test site and of the bmc fixture', async () => {
  if (!requireProgram('shellcheck', 'dash')) return;
  const trees = Object.values(await getTrees()).map((t) => ({ label: t.label, dir: t.dir }));
  trees.push({ label: 'fixture bmc', dir: await buildSite(path.join(REPO_ROOT, 'test/fixtures/build/bmc/site'), 'bmc-fixture') });
  let count = 0;
  for (const t of trees) {
    for (const f of walk(t.dir).filter((p) => p.endsWith('.sh'))) {
      count++;
      const file = path.join(t.dir, f);
      const n = await run(['sh', '-n', file]);
      assert.ok(n.code === 0 && n.stderr === '', `${t.label} ${f}: sh -n\n${describe(n)}`);
      const d = await run(['dash', '-n', file]);
      assert.ok(d.code === 0 && d.stderr === '', `${t.label} ${f}: dash -n\n${describe(d)}`);
      const sc = await run(['shellcheck', '--shell=sh', '--severity=style', file]);
      assert.ok(sc.code === 0, `${t.label} ${f}: shellcheck\n${describe(sc)}`);
    }
  }
  assert.ok(count >= 8, `found ${count} scripts`);
  // The mutation: shellcheck sees an unquoted expansion (a temp dir path split at spaces).
  const dir = tempDir('sc-mutation');
  const bad = readFileSync(path.join(trees.at(-1)!.dir, 'bmc/hv-1.sh'), 'utf8').replace('--output "$tmp/body"', '--output $tmp/body');
  assert.ok(bad.includes('--output $tmp/body'), 'the mutation applies');
  writeFileSync(path.join(dir, 'bad.sh'), bad);
  assert.is.not((await run(['shellcheck', '--shell=sh', path.join(dir, 'bad.sh')])).code, 0, 'shellcheck catches an unquoted variable');
});

// --- the test site ----------------------------------------------------------------------------

/** A site whose nodes' BMCs are this test's Redfish server and ipmi_sim. */
async function bmcSite(redfishPort: number, ipmiPort: number): Promise<string> {
  const dir = tempDir('bmc-site');
  const site = {
    site: 'bmcreal',
    harvester: { version: 'v1.5.1', artifacts: 'http://10.30.0.2/artifacts' },
    boot: { server: 'http://10.30.0.2', firmware: 'uefi', http_boot: true },
    network: { cidr: '10.30.0.0/24', gateway: '10.30.0.1', dns: ['10.30.0.1'], dhcp_range: '10.30.0.100-10.30.0.199' },
    cluster: { vip: '10.30.0.10', token: 'test-token', ssh_authorized_keys: ['github:harvgen-ops'] },
    defaults: {
      install: { device: '/dev/vda' },
      bmc: { user: { env: 'T_BMC_USER' }, password: { env: 'T_BMC_PASSWORD' } },
    },
    nodes: [
      // TLS verified against CURL_CA_BUNDLE; the BMC lists two systems, so bmc.system says which.
      {
        hostname: 'r1',
        mac: '52:54:00:30:00:01',
        bmc: { address: `127.0.0.1:${redfishPort}`, system: '/redfish/v1/Systems/sys-1' },
      },
      {
        hostname: 'r2',
        mac: '52:54:00:30:00:02',
        bmc: { address: `localhost:${redfishPort}`, system: '/redfish/v1/Systems/sys-2', insecure: true },
      },
      {
        hostname: 'i1',
        mac: '52:54:00:30:00:03',
        bmc: { type: 'ipmi', address: `127.0.0.1:${ipmiPort}`, user: { env: 'T_IPMI_USER' }, password: { env: 'T_IPMI_PASSWORD' } },
      },
    ],
  };
  writeFileSync(path.join(dir, 'site.yaml'), stringify(site));
  return buildSite(dir, 'bmc-real');
}

/** curl and ipmitool wrappers that log their argv (and curl its standard input) before running the real program. */
function wrappers(names: readonly string[]): { bin: string; log: string } {
  const bin = tempDir('bmc-bin');
  const log = path.join(bin, 'calls.log');
  for (const name of names) {
    const real = findProgram(name)!;
    const stdin = name === 'curl' ? `tee -a '${log}.stdin' | ` : '';
    // ipmi_sim does not implement Get Channel Cipher Suites, which ipmitool asks first when no -C
    // is given and then waits 10 s for: the wrapper adds `-C 3` after logging the script's argv (a
    // real BMC answers that command, so the generated script leaves the choice to ipmitool).
    const extra = name === 'ipmitool' ? '-C 3 ' : '';
    // The environment of every call is kept apart (ipmitool's holds IPMI_PASSWORD by design).
    writeFileSync(
      path.join(bin, name),
      `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${log}'\nprintf 'env IPMI_PASSWORD=%s\\n' "\${IPMI_PASSWORD+set}" >> '${log}'\nenv | grep -v '^IPMI_PASSWORD=' >> '${log}.env'\n${stdin}'${real}' ${extra}"$@"\n`,
    );
    chmodSync(path.join(bin, name), 0o755);
  }
  return { bin, log };
}

// --- Redfish ----------------------------------------------------------------------------------

type Req = RecordedRequest;

/** The PATCH bodies of a run, in order. */
const patches = (reqs: readonly Req[]) => reqs.filter((r) => r.method === 'PATCH').map((r) => ({ path: r.path, body: r.body }));

/** What pxe-once must have done to sys-1 (returns the problem, or undefined). */
function pxeOnceProblem(reqs: readonly Req[]): string | undefined {
  const want = { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' } };
  const got = patches(reqs);
  if (got.length !== 1) return `expected one PATCH, got ${JSON.stringify(got)}`;
  if (got[0]!.path !== '/redfish/v1/Systems/sys-1') return `PATCH ${got[0]!.path}`;
  if (JSON.stringify(got[0]!.body) !== JSON.stringify(want)) return `PATCH body ${JSON.stringify(got[0]!.body)}`;
  return undefined;
}

test('Redfish: every subcommand of the generated scripts sends what Redfish defines, with Basic auth, and never a password in argv', async () => {
  if (!requireProgram('curl', 'jq', 'openssl')) return;
  const tls = await certificate();
  const rf = await startRedfishServer({ tls, user: USER, password: PASSWORD });
  try {
    const out = await bmcSite(rf.port, 1);
    const { bin, log } = wrappers(['curl', 'jq']);
    // The scripts' temporary files go here: nothing may be left behind.
    const scratch = tempDir('bmc-scratch');
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      T_BMC_USER: USER,
      T_BMC_PASSWORD: PASSWORD,
      CURL_CA_BUNDLE: tls.certFile,
      TMPDIR: scratch,
    };
    const sh = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> => {
      rf.requests.length = 0;
      return run([path.join(out, 'bmc', args[0]!), ...args.slice(1)], { env: { ...env, ...extra }, timeoutMs: 60_000 });
    };

    let r = await sh(['r1.sh', 'power-status']);
    assert.is(r.code, 0, describe(r));
    assert.is(r.stdout, 'r1: On\n');
    assert.equal(
      rf.requests.map((q) => `${q.method} ${q.path}`),
      ['GET /redfish/v1/', 'GET /redfish/v1/Systems', 'GET /redfish/v1/Systems/sys-1'],
      'from the service root to the system bmc.system names',
    );

    r = await sh(['r1.sh', 'pxe-once']);
    assert.is(r.code, 0, describe(r));
    assert.is(pxeOnceProblem(rf.requests), undefined);
    assert.equal(rf.systems['sys-1']!.Boot.BootSourceOverrideTarget, 'Pxe');

    // The mode reads UEFI since pxe-once: not sent again (some BMCs queue a BIOS job for it).
    r = await sh(['r1.sh', 'http-boot-once']);
    assert.is(r.code, 0, describe(r));
    assert.equal(patches(rf.requests), [
      {
        path: '/redfish/v1/Systems/sys-1',
        body: {
          Boot: {
            BootSourceOverrideTarget: 'UefiHttp',
            BootSourceOverrideEnabled: 'Once',
            HttpBootUri: 'http://10.30.0.2/snponly.efi',
          },
        },
      },
    ]);
    assert.equal(rf.systems['sys-1']!.Boot.BootSourceOverrideMode, 'UEFI');

    // sys-1 is on and allows ForceRestart; sys-2 (named by bmc.system) is off, then allows only PowerCycle.
    r = await sh(['r1.sh', 'power-cycle']);
    assert.is(r.code, 0, describe(r));
    assert.equal(
      rf.requests.filter((q) => q.method === 'POST').map((q) => [q.path, q.body]),
      [['/redfish/v1/Systems/sys-1/Actions/ComputerSystem.Reset', { ResetType: 'ForceRestart' }]],
    );
    r = await sh(['r2.sh', 'power-cycle']);
    assert.is(r.code, 0, describe(r));
    assert.equal(
      rf.requests.filter((q) => q.method === 'POST').map((q) => q.body),
      [{ ResetType: 'On' }],
      'an Off system is powered on',
    );
    assert.is(rf.systems['sys-2']!.PowerState, 'On');
    r = await sh(['r2.sh', 'power-cycle']);
    assert.equal(
      rf.requests.filter((q) => q.method === 'POST').map((q) => q.body),
      [{ ResetType: 'PowerCycle' }],
      describe(r),
    );
    assert.ok(
      rf.requests.some((q) => q.path === '/redfish/v1/Systems'),
      'bmc.system is checked against the collection',
    );

    // sys-2 lists its boot targets without UefiHttp: refused before any PATCH.
    r = await sh(['r2.sh', 'http-boot-once']);
    assert.is(r.code, 1, describe(r));
    assert.match(r.stderr, /does not offer the boot target UefiHttp/);
    assert.equal(patches(rf.requests), []);

    r = await sh(['r1.sh', 'virtual-media', 'http://10.30.0.2/ipxe.iso']);
    assert.is(r.code, 0, describe(r));
    assert.equal(
      rf.requests.filter((q) => q.method !== 'GET').map((q) => [q.method, q.path, q.body]),
      [
        ['POST', '/redfish/v1/Managers/bmc-1/VirtualMedia/Cd1/Actions/VirtualMedia.EjectMedia', {}],
        ['POST', '/redfish/v1/Managers/bmc-1/VirtualMedia/Cd1/Actions/VirtualMedia.InsertMedia', { Image: 'http://10.30.0.2/ipxe.iso' }],
        ['PATCH', '/redfish/v1/Systems/sys-1', { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } }],
      ],
      'the CD drive (not the floppy) is ejected, loaded and booted once',
    ); // prettier-ignore
    assert.equal(rf.media.Cd1!.Image, 'http://10.30.0.2/ipxe.iso');

    // Failures: the BMC's status and message, exit 1; usage and missing credentials, exit 2.
    r = await sh(['r1.sh', 'power-status'], { T_BMC_PASSWORD: 'wrong' });
    assert.is(r.code, 1, describe(r));
    assert.match(r.stderr, /r1: GET \/redfish\/v1\/Systems: HTTP 401: /);
    r = await sh(['r1.sh', 'power-status'], { T_BMC_PASSWORD: undefined });
    assert.is(r.code, 2, describe(r));
    assert.match(r.stderr, /set T_BMC_PASSWORD/);
    r = await sh(['r1.sh', 'virtual-media', 'file:///etc/passwd']);
    assert.is(r.code, 2, describe(r));
    r = await sh(['r1.sh', 'reboot']);
    assert.is(r.code, 2, describe(r));
    assert.match(r.stderr, /usage:/);
    // TLS is verified unless bmc.insecure: without the CA, r1 fails and r2 (insecure) does not.
    r = await sh(['r1.sh', 'power-status'], { CURL_CA_BUNDLE: undefined });
    assert.is(r.code, 1, describe(r));
    // Said as what it is: curl's certificate check (exit 60), not "no answer".
    assert.match(r.stderr, /the BMC at \S+ answered, but TLS failed \(curl exit 60\): a certificate this machine does not trust/);
    assert.match(r.stderr, /bmc\.insecure: true/);
    assert.not.match(r.stderr, /no answer from the BMC/);
    r = await sh(['r2.sh', 'power-status'], { CURL_CA_BUNDLE: undefined });
    assert.is(r.code, 0, describe(r));

    // all.sh: one line per node, sequentially; an unknown node fails the run.
    r = await sh(['all.sh', 'power-status', 'r1', 'r2']);
    assert.is(r.code, 0, describe(r));
    assert.is(r.stdout, 'r1: On\nr1: ok\nr2: On\nr2: ok\n');
    r = await sh(['all.sh', '--dry-run', 'pxe-once', 'r1', 'r2']);
    assert.is(r.code, 0, describe(r));
    assert.equal(
      rf.requests.filter((q) => q.method !== 'GET'),
      [],
      'a dry run over the nodes sends reads only',
    );
    assert.match(r.stdout, /r1: would PATCH \/redfish\/v1\/Systems\/sys-1\n[\s\S]*r1: dry run: nothing was changed\nr1: ok\n/);
    assert.match(r.stdout, /r2: would PATCH \/redfish\/v1\/Systems\/sys-2\n[\s\S]*r2: dry run: nothing was changed\nr2: ok\n$/);
    assert.not.ok(r.stdout.includes(PASSWORD) || r.stderr.includes(PASSWORD), 'no password in a dry run');
    r = await sh(['all.sh', 'status', 'r2']);
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /^r2: system \/redfish\/v1\/Systems\/sys-2: PowerState On\nr2: boot override: /);
    assert.match(r.stdout, /r2: ok\n$/);
    r = await sh(['all.sh', 'power-status', 'r1', 'nope']);
    assert.is(r.code, 1, describe(r));
    assert.match(r.stdout, /nope: FAILED/);
    assert.match(r.stderr, /1 of 2 nodes failed/);

    // Every request carried Basic auth; no curl ever had the password in its argv, and the
    // config on its standard input held it.
    const calls = readFileSync(log, 'utf8');
    assert.ok(calls.includes('curl '), 'curl was run through the wrapper');
    for (const secret of [PASSWORD, 'wrong', Buffer.from(`${USER}:${PASSWORD}`).toString('base64')])
      assert.not.ok(calls.includes(secret), `a password in curl's argv:\n${calls}`);
    assert.ok(
      readFileSync(`${log}.stdin`, 'utf8').includes(`user = "admin:pw'\\"$x\\\\y"`),
      'curl read the credentials from its config on stdin',
    );
    // Nor in the environment of curl or jq (the script takes the variable out once it has read
    // it), nor in a file left behind.
    const envs = readFileSync(`${log}.env`, 'utf8');
    assert.ok(envs.includes('T_BMC_USER=admin'), 'the environments were recorded');
    assert.not.ok(envs.includes(PASSWORD) || envs.includes('T_BMC_PASSWORD='), 'a password in the environment of a program the script ran');
    assert.equal(readdirSync(scratch), [], 'no temporary file is left');

    // Mutation: a script that asks for Hdd instead of Pxe is caught by the same check.
    const mutated = path.join(out, 'bmc', 'r1-mutated.sh');
    writeFileSync(mutated, readFileSync(path.join(out, 'bmc', 'r1.sh'), 'utf8').replace('boot_once Pxe', 'boot_once Hdd'), { mode: 0o755 });
    r = await sh(['r1-mutated.sh', 'pxe-once']);
    assert.is(r.code, 0, describe(r));
    assert.match(pxeOnceProblem(rf.requests) ?? '', /Hdd/, 'the wrong boot target is caught');
  } finally {
    await rf.close();
  }
});

test('Redfish: the scripts send what sushy, a real Redfish client library, sends for the same operations', async () => {
  if (!requireProgram('curl', 'jq', 'openssl', '/usr/bin/python3', '/usr/lib/python3/dist-packages/sushy/__init__.py')) return;
  const tls = await certificate();
  const rf = await startRedfishServer({ tls, user: USER, password: PASSWORD });
  try {
    const out = await bmcSite(rf.port, 1);
    const env = { ...process.env, T_BMC_USER: USER, T_BMC_PASSWORD: PASSWORD, CURL_CA_BUNDLE: tls.certFile };
    const changes = () =>
      rf.requests.filter((q) => q.method !== 'GET').map((q) => ({ method: q.method, path: q.path, body: q.body, auth: q.auth }));
    rf.requests.length = 0;
    for (const args of [['pxe-once'], ['power-cycle'], ['virtual-media', 'http://10.30.0.2/ipxe.iso']]) {
      const r = await run([path.join(out, 'bmc', 'r1.sh'), ...args], { env, timeoutMs: 60_000 });
      assert.is(r.code, 0, describe(r));
    }
    const script = changes();
    rf.requests.length = 0;
    rf.media.Cd1!.Inserted = true;
    const r = await run(
      [
        '/usr/bin/python3',
        path.join(REPO_ROOT, 'test/real/helpers/sushy-driver.py'),
        `https://127.0.0.1:${rf.port}`,
        '/redfish/v1/Systems/sys-1',
        '/redfish/v1/Managers/bmc-1',
        '/redfish/v1/Managers/bmc-1/VirtualMedia/Cd1',
        'http://10.30.0.2/ipxe.iso',
      ],
      {
        env: { ...process.env, SUSHY_USER: USER, SUSHY_PASSWORD: PASSWORD, REQUESTS_CA_BUNDLE: tls.certFile, CURL_CA_BUNDLE: tls.certFile },
        timeoutMs: 60_000,
      },
    );
    assert.is(r.code, 0, describe(r));
    const library = changes();
    // The same requests, bodies and auth; an action without parameters gets `{}` from the script
    // and no body from sushy (both are what Redfish allows). The script then also boots once from
    // the CD (sushy leaves that to its caller), without the mode, which reads UEFI since pxe-once.
    const noBody = (q: (typeof library)[number]) => ({ ...q, body: q.body ?? {} });
    assert.equal(script.slice(0, -1), library.map(noBody));
    assert.equal(script.at(-1)!.body, { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } });
  } finally {
    await rf.close();
  }
});

// --- a node's own boot ISO (medium: iso) -----------------------------------------------------------

/** A loopback HTTP server of the files under `root()` (GET only), which records the paths asked for. */
async function fileServer(root: () => string, onRequest: (path: string) => void = () => {}): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const wanted = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    onRequest(wanted);
    const file = path.join(root(), path.normalize(wanted));
    if (req.method !== 'GET' || !file.startsWith(`${root()}/`) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/**
 * What the sites of the boot ISO tests share: Harvester `version`, everything served from
 * `http://127.0.0.1:<httpPort>`, boot programs (stand-ins) in `<dir>/loaders`.
 */
function mediaSiteHead(dir: string, httpPort: number, version: string) {
  // Stand-in boot programs the build accepts: the BMC scripts do not look into the ISO
  // (test/real/media.test.ts boots one made from the real programs).
  mediaLoaders(path.join(dir, 'loaders'));
  return {
    harvester: { version, artifacts: `http://127.0.0.1:${httpPort}/artifacts` },
    boot: { server: `http://127.0.0.1:${httpPort}`, firmware: 'uefi', media_loaders: 'loaders' },
    network: { cidr: '10.30.0.0/24', gateway: '10.30.0.1', dns: ['10.30.0.1'], dhcp_range: '10.30.0.100-10.30.0.199' },
    cluster: { vip: '10.30.0.10', token: 'test-token', ssh_authorized_keys: ['github:harvgen-ops'] },
  };
}

/**
 * A site served from `http://127.0.0.1:<httpPort>`: m1 boots from its own ISO (Redfish, sys-1), m2
 * from the network (Redfish, sys-2), i1 from its own ISO behind an IPMI BMC.
 */
async function mediumSite(redfishPort: number, httpPort: number): Promise<string> {
  const dir = tempDir('bmc-medium-site');
  const site = {
    site: 'bmcmedia',
    ...mediaSiteHead(dir, httpPort, 'v1.5.1'),
    defaults: { install: { device: '/dev/vda' }, bmc: { user: { env: 'T_BMC_USER' }, password: { env: 'T_BMC_PASSWORD' } } },
    nodes: [
      {
        hostname: 'm1',
        mac: '52:54:00:30:00:11',
        ip: '10.30.0.21',
        method: 'static',
        medium: 'iso',
        // An image of its own (the BMC scripts are what these tests are about): media/m1.iso.
        medium_image: 'own',
        bmc: { address: `127.0.0.1:${redfishPort}`, system: '/redfish/v1/Systems/sys-1' },
      },
      { hostname: 'm2', mac: '52:54:00:30:00:12', bmc: { address: `localhost:${redfishPort}`, system: '/redfish/v1/Systems/sys-2' } },
      {
        hostname: 'i1',
        mac: '52:54:00:30:00:13',
        ip: '10.30.0.23',
        method: 'static',
        medium: 'iso',
        medium_image: 'own',
        bmc: { type: 'ipmi', address: '127.0.0.1:1' },
      },
    ],
  };
  writeFileSync(path.join(dir, 'site.yaml'), stringify(site));
  return buildSite(dir, 'bmc-medium', true);
}

/** What the service holds that a change would alter (a dry run must leave it as it is). */
const serviceState = (rf: RedfishServer) =>
  JSON.stringify({ systems: rf.systems, media: rf.media, fetches: rf.fetches, tasks: rf.tasks, counters: { ...rf.counters, gets: 0 } });

/** The changes a run sent, in order: `METHOD path body`. */
const changesSent = (reqs: readonly Req[]) =>
  reqs.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path} ${JSON.stringify(q.body)}`);

const CD1 = '/redfish/v1/Managers/bmc-1/VirtualMedia/Cd1';

/**
 * What media-boot must have done to sys-1 and its CD (returns the problem, or undefined): the old
 * medium ejected, the ISO inserted and fetched (during the insert, those very bytes), a one-time
 * boot from the CD, then a reset that booted it.
 */
function mediaBootProblem(
  rf: RedfishServer,
  reqs: readonly Req[],
  o: { url: string; sha256: string; fetchedDuring?: number },
): string | undefined {
  const want = [
    `POST ${CD1}/Actions/VirtualMedia.EjectMedia {}`,
    `POST ${CD1}/Actions/VirtualMedia.InsertMedia ${JSON.stringify({ Image: o.url })}`,
    `PATCH /redfish/v1/Systems/sys-1 ${JSON.stringify({ Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' } })}`,
    `POST /redfish/v1/Systems/sys-1/Actions/ComputerSystem.Reset ${JSON.stringify({ ResetType: 'ForceRestart' })}`,
  ];
  const got = changesSent(reqs);
  if (JSON.stringify(got) !== JSON.stringify(want)) return `the changes sent, in order:\n${got.join('\n')}`;
  const fetched = rf.fetches.map((f) => `${f.media} ${f.url} ${f.sha256 ?? f.error}`);
  if (JSON.stringify(fetched) !== JSON.stringify([`Cd1 ${o.url} ${o.sha256}`])) return `the service fetched: ${JSON.stringify(rf.fetches)}`;
  // The image was fetched while the insert was being answered (before the boot override and the reset).
  if (o.fetchedDuring === undefined || !reqs[o.fetchedDuring - 1]?.path.endsWith('/VirtualMedia.InsertMedia'))
    return `the image was fetched during ${reqs[(o.fetchedDuring ?? 0) - 1]?.path ?? 'no request'}`;
  const cd = rf.media.Cd1!;
  if (cd.Image !== o.url || !cd.Inserted) return `Cd1 holds ${cd.Image} (Inserted ${cd.Inserted})`;
  const sys = rf.systems['sys-1']!;
  // The reset booted the CD (the override was Once or Continuous), and a Once override is then spent.
  if (JSON.stringify(sys.boots.at(-1)) !== JSON.stringify({ ResetType: 'ForceRestart', Target: 'Cd', Mode: 'UEFI' }))
    return `the last boot: ${JSON.stringify(sys.boots.at(-1))}`;
  if (sys.Boot.BootSourceOverrideEnabled !== 'Disabled')
    return `the override reads ${sys.Boot.BootSourceOverrideEnabled} after the boot, not Disabled (Once spent)`;
  return undefined;
}

test("Redfish: media-boot inserts the node's ISO (the BMC fetches those bytes), boots it once and resets; eject empties the CD, once", async () => {
  if (!requireProgram('curl', 'jq', 'openssl', 'shellcheck', 'dash')) return;
  const tls = await certificate();
  const rf = await startRedfishServer({ tls, user: USER, password: PASSWORD });
  let out = '';
  const served: string[] = [];
  let fetchedDuring: number | undefined;
  const http = await fileServer(
    () => out,
    (p) => {
      served.push(p);
      fetchedDuring = rf.requests.length;
    },
  );
  try {
    out = await mediumSite(rf.port, http.port);
    // The scripts of nodes with a boot ISO, as the first test checks every other generated script.
    for (const f of ['m1.sh', 'm2.sh', 'i1.sh', 'all.sh']) {
      const file = path.join(out, 'bmc', f);
      for (const argv of [
        ['dash', '-n', file],
        ['shellcheck', '--shell=sh', '--severity=style', file],
      ]) {
        const c = await run(argv);
        assert.ok(c.code === 0 && c.stderr === '', `${f}: ${argv[0]}\n${describe(c)}`);
      }
    }
    const url = `http://127.0.0.1:${http.port}/media/m1.iso`;
    const iso = readFileSync(path.join(out, 'media/m1.iso'));
    const sha256 = createHash('sha256').update(iso).digest('hex');
    const bmcLog = path.join(tempDir('bmc-medium-log'), 'bmc.log');
    const env = { ...process.env, T_BMC_USER: USER, T_BMC_PASSWORD: PASSWORD, CURL_CA_BUNDLE: tls.certFile, HARVGEN_BMC_LOG: bmcLog };
    const sh = async (args: string[], script = path.join(out, 'bmc', args[0]!)): Promise<RunResult> => {
      rf.requests.length = 0;
      served.length = 0;
      fetchedDuring = undefined;
      return run([script, ...args.slice(1)], { env, timeoutMs: 60_000 });
    };
    const logLines = () => (existsSync(bmcLog) ? readFileSync(bmcLog, 'utf8').split('\n').filter(Boolean) : []);

    // --dry-run: every step printed, nothing sent but reads, nothing fetched, nothing logged.
    const before = serviceState(rf);
    let r = await sh(['m1.sh', '--dry-run', 'media-boot']);
    assert.is(r.code, 0, describe(r));
    assert.equal(changesSent(rf.requests), [], 'a dry run sends reads only');
    assert.is(serviceState(rf), before, "the service's state is unchanged");
    assert.equal(served, [], 'nothing fetched the ISO');
    const steps = [
      `m1: would POST ${CD1}/Actions/VirtualMedia.EjectMedia`,
      'm1:   {}',
      `m1: would read back Inserted false, no Image at ${CD1}`,
      `m1: would POST ${CD1}/Actions/VirtualMedia.InsertMedia`,
      `m1:   {"Image":"${url}"}`,
      `m1: would read back Image ${url}, Inserted at ${CD1}`,
      'm1: would PATCH /redfish/v1/Systems/sys-1',
      `m1:   {"Boot":{"BootSourceOverrideTarget":"Cd","BootSourceOverrideEnabled":"Once","BootSourceOverrideMode":"UEFI"}}`,
      'm1: would read back Cd, Once, UEFI at /redfish/v1/Systems/sys-1',
      'm1: would POST /redfish/v1/Systems/sys-1/Actions/ComputerSystem.Reset',
      'm1:   {"ResetType":"ForceRestart"}',
      'm1: would read back PowerState On at /redfish/v1/Systems/sys-1',
      'm1: dry run: nothing was changed',
    ];
    const printed = r.stdout.split('\n').filter((l) => !/^m1: GET /.test(l) && !/^m1: boot target /.test(l) && l !== '');
    assert.equal(printed, steps, 'each step, in order');
    assert.equal(logLines(), [], 'a dry run is not logged');

    r = await sh(['m1.sh', 'media-boot']);
    assert.is(r.code, 0, describe(r));
    assert.is(mediaBootProblem(rf, rf.requests, { url, sha256, fetchedDuring }), undefined);
    assert.equal(served, ['/media/m1.iso'], 'the BMC fetched the ISO once');
    assert.match(r.stdout, /m1: ForceRestart \(was On\); PowerState reads On\n/);
    assert.match(r.stdout, /eject it: bmc\/m1\.sh eject\n$/);
    assert.equal(
      logLines().map((l) => l.split('\t').slice(3, 5)),
      [['media-boot', '0']],
    );
    assert.not.ok(logLines()[0]!.includes('m1.iso'), 'the log line does not name the ISO (a keyed name under nginx.file_key)');

    // --dry-run eject with the ISO in: printed, not sent.
    const inserted = serviceState(rf);
    r = await sh(['m1.sh', '--dry-run', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(changesSent(rf.requests), []);
    assert.is(serviceState(rf), inserted);
    assert.match(r.stdout, new RegExp(`m1: would POST ${CD1}/Actions/VirtualMedia\\.EjectMedia\\n`));

    r = await sh(['m1.sh', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(changesSent(rf.requests), [`POST ${CD1}/Actions/VirtualMedia.EjectMedia {}`]);
    assert.equal([rf.media.Cd1!.Image, rf.media.Cd1!.Inserted], [null, false]);
    assert.is(r.stdout.split('\n').at(-2), `m1: ejected ${url} from ${CD1}; read back: empty`);
    // Idempotent: an empty drive is said so, and nothing is sent.
    r = await sh(['m1.sh', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(changesSent(rf.requests), []);
    assert.is(r.stdout.split('\n').at(-2), `m1: the virtual CD ${CD1} is empty: nothing to eject`);
    assert.equal(
      logLines().map((l) => l.split('\t').slice(3, 5)),
      [
        ['media-boot', '0'],
        ['eject', '0'],
        ['eject', '0'],
      ],
    );

    // all.sh takes the new subcommands.
    r = await sh(['all.sh', '--dry-run', 'media-boot', 'm1']);
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /m1: dry run: nothing was changed\nm1: ok\n$/);

    // A node that boots from the network: refused (exit 2) before any request.
    r = await sh(['m2.sh', 'media-boot']);
    assert.is(r.code, 2, describe(r));
    assert.match(r.stderr, /m2: media-boot: node m2 has medium: network .*set medium: iso/);
    assert.equal(rf.requests, []);
    // IPMI: no standard virtual media.
    for (const sub of ['media-boot', 'eject']) {
      r = await sh(['i1.sh', sub]);
      assert.is(r.code, 2, describe(r));
      assert.match(
        r.stderr,
        new RegExp(`i1: ${sub}: IPMI has no standard virtual media; the Redfish script does it \\(set bmc.type: redfish`),
      );
    }
    assert.match(r.stderr, /mount http:\/\/127\.0\.0\.1:\d+\/media\/i1\.iso by hand/);

    // Mutation: a script that resets the machine before its ISO is in is caught by the same check.
    rf.media.Cd1!.Image = 'http://old/old.iso';
    rf.media.Cd1!.Inserted = true;
    rf.fetches.length = 0;
    const text = readFileSync(path.join(out, 'bmc', 'm1.sh'), 'utf8');
    const early = text.replace(
      '  find_slot "$medium_types" "$medium_slot"\n  cd=$media\n',
      '  find_system\n  reset_system\n  find_slot "$medium_types" "$medium_slot"\n  cd=$media\n',
    );
    assert.is.not(early, text, 'the mutation applies');
    writeFileSync(path.join(out, 'bmc', 'm1-early.sh'), early, { mode: 0o755 });
    r = await sh(['m1-early.sh', 'media-boot']);
    assert.is(r.code, 0, describe(r));
    assert.ok(mediaBootProblem(rf, rf.requests, { url, sha256, fetchedDuring }), 'a reset before the insert is caught');
  } finally {
    await closeServer(http.server);
    await rf.close();
  }
});

/**
 * A v1.9 site served from `http://127.0.0.1:<httpPort>` whose Harvester nodes boot from their own
 * ISO and read `install.iso_url: local`: node h<i> behind the Redfish service on `ports[i - 1]`
 * (system sys-1 of each).
 */
async function isoLocalSite(httpPort: number, ports: readonly number[]): Promise<string> {
  const dir = tempDir('bmc-iso-local-site');
  const site = {
    site: 'bmclocal',
    ...mediaSiteHead(dir, httpPort, 'v1.9.0'),
    defaults: {
      medium: 'iso',
      medium_image: 'own',
      method: 'static',
      install: { device: '/dev/vda', iso_url: 'local' },
      bmc: { user: { env: 'T_BMC_USER' }, password: { env: 'T_BMC_PASSWORD' } },
    },
    nodes: ports.map((port, i) => ({
      hostname: `h${i + 1}`,
      mac: `52:54:00:30:01:1${i}`,
      ip: `10.30.0.3${i}`,
      bmc: { address: `127.0.0.1:${port}`, system: '/redfish/v1/Systems/sys-1' },
    })),
  };
  writeFileSync(path.join(dir, 'site.yaml'), stringify(site));
  return buildSite(dir, 'bmc-iso-local', true);
}

/** A change a run sent, as a step: `eject <medium>`, `insert <medium> <image>`, `boot <target> <enabled>`, `reset <type>`. */
function mediaStep(q: Req): string {
  const b = (q.body ?? {}) as Record<string, any>;
  const m = /\/VirtualMedia\/([^/]+)(?:\/Actions\/VirtualMedia\.(InsertMedia|EjectMedia))?\/?$/.exec(q.path);
  if (m) return m[2] === 'EjectMedia' || (m[2] === undefined && b.Image === null) ? `eject ${m[1]}` : `insert ${m[1]} ${b.Image}`;
  if (/\/Actions\/ComputerSystem\.Reset\/?$/.test(q.path)) return `reset ${b.ResetType}`;
  if (b.Boot) return `boot ${b.Boot.BootSourceOverrideTarget} ${b.Boot.BootSourceOverrideEnabled}`;
  return `${q.method} ${q.path}`;
}

/**
 * What media-boot must have done with install.iso_url: local (the problem, or undefined): `steps`
 * sent in that order (the boot ISO in the CD, the Harvester ISO in the second medium, then the
 * one-time boot and the reset), each image fetched by the service while its own insert was being
 * answered (those very bytes), both media holding them after, and the reset booting the CD.
 */
function isoLocalProblem(
  rf: RedfishServer,
  o: {
    steps: string[];
    images: { media: string; url: string; sha256: string }[];
    fetchedDuring: Map<string, number>;
  },
): string | undefined {
  const got = rf.requests.filter((q) => q.method !== 'GET').map(mediaStep);
  if (JSON.stringify(got) !== JSON.stringify(o.steps)) return `the changes sent, in order:\n${got.join('\n')}`;
  const fetched = rf.fetches.map((f) => `${f.media} ${f.url} ${f.sha256 ?? f.error}`);
  const want = o.images.map((i) => `${i.media} ${i.url} ${i.sha256}`);
  if (JSON.stringify(fetched) !== JSON.stringify(want)) return `the service fetched:\n${fetched.join('\n')}`;
  for (const i of o.images) {
    const during = rf.requests[(o.fetchedDuring.get(new URL(i.url).pathname) ?? 0) - 1];
    if (during === undefined || mediaStep(during) !== `insert ${i.media} ${i.url}`)
      return `${i.url} was fetched during ${during ? mediaStep(during) : 'no request'}`;
    const m = rf.media[i.media]!;
    if (m.Image !== i.url || !m.Inserted) return `${i.media} holds ${m.Image} (Inserted ${m.Inserted})`;
  }
  const boot = rf.systems['sys-1']!.boots.at(-1);
  if (JSON.stringify(boot) !== JSON.stringify({ ResetType: 'ForceRestart', Target: 'Cd', Mode: 'UEFI' }))
    return `the last boot: ${JSON.stringify(boot)}`;
  return undefined;
}

test('Redfish, install.iso_url: local: media-boot puts the boot ISO in the CD and the Harvester ISO in a second medium (a USB stick first) before the reset; one slot stops it before any change; eject empties both, once', async () => {
  if (!requireProgram('curl', 'jq', 'openssl', 'shellcheck', 'dash')) return;
  const tls = await certificate();
  const old = { Inserted: true, Image: 'http://old/old.iso' };
  // h1: a Floppy (takes no image), the CD, a second CD and a USB stick, both drives in use;
  // h2: the same, VirtualMedia before v1.2 (PATCH, not actions) with ETags required;
  // h3: two CDs, both empty; h4: a Floppy and the CD only.
  const four = {
    Floppy1: { MediaTypes: ['Floppy'] },
    Cd1: { MediaTypes: ['CD', 'DVD'], ...old },
    Cd2: { MediaTypes: ['CD', 'DVD'] },
    Usb1: { MediaTypes: ['USBStick'], Inserted: true, Image: 'http://old/old.img' },
  };
  const services = [
    await startRedfishServer({ tls, user: USER, password: PASSWORD, media: four }),
    await startRedfishServer({
      tls,
      user: USER,
      password: PASSWORD,
      media: four,
      quirks: { vmediaPatchOnly: true, etag: 'header', requireIfMatch: true },
    }),
    await startRedfishServer({
      tls,
      user: USER,
      password: PASSWORD,
      media: { Cd1: { MediaTypes: ['CD'] }, Cd2: { MediaTypes: ['CD', 'DVD'] } },
    }),
    await startRedfishServer({
      tls,
      user: USER,
      password: PASSWORD,
      media: { Floppy1: { MediaTypes: ['Floppy'] }, Cd1: { MediaTypes: ['CD', 'DVD'], ...old } },
    }),
  ];
  const [rf1, rf2, rf3, rf4] = services as [RedfishServer, RedfishServer, RedfishServer, RedfishServer];
  let out = '';
  let current = rf1;
  // Each file the BMC fetched, and how many requests its service had taken by then.
  const fetchedDuring = new Map<string, number>();
  const http = await fileServer(
    () => out,
    (p) => fetchedDuring.set(p, current.requests.length),
  );
  try {
    out = await isoLocalSite(
      http.port,
      services.map((s) => s.port),
    );
    // The Harvester ISO of the release, on the boot server (a stand-in of 300 KiB).
    const harvesterUrl = `http://127.0.0.1:${http.port}/artifacts/harvester-v1.9.0-amd64.iso`;
    const harvesterIso = Buffer.alloc(300 * 1024);
    for (let i = 0; i < harvesterIso.length; i++) harvesterIso[i] = (i * 7919) % 251;
    mkdirSync(path.join(out, 'artifacts'), { recursive: true });
    writeFileSync(path.join(out, 'artifacts/harvester-v1.9.0-amd64.iso'), harvesterIso);
    const harvester = { url: harvesterUrl, sha256: createHash('sha256').update(harvesterIso).digest('hex') };
    const bootIso = (host: string) => ({
      url: `http://127.0.0.1:${http.port}/media/${host}.iso`,
      sha256: createHash('sha256')
        .update(readFileSync(path.join(out, `media/${host}.iso`)))
        .digest('hex'),
    });
    for (const f of ['h1.sh', 'h4.sh']) {
      const file = path.join(out, 'bmc', f);
      assert.ok(readFileSync(file, 'utf8').includes(`\nharvester_iso_url=${harvesterUrl}\n`), f);
      for (const argv of [
        ['dash', '-n', file],
        ['shellcheck', '--shell=sh', '--severity=style', file],
      ]) {
        const c = await run(argv);
        assert.ok(c.code === 0 && c.stderr === '', `${f}: ${argv[0]}\n${describe(c)}`);
      }
    }
    const env = { ...process.env, T_BMC_USER: USER, T_BMC_PASSWORD: PASSWORD, CURL_CA_BUNDLE: tls.certFile };
    const sh = async (rf: RedfishServer, args: string[], script = path.join(out, 'bmc', args[0]!)): Promise<RunResult> => {
      current = rf;
      rf.requests.length = 0;
      fetchedDuring.clear();
      return run([script, ...args.slice(1)], { env, timeoutMs: 60_000 });
    };
    const media = (rf: RedfishServer, id: string) => rf.mediaPath(id);
    const fourSteps = (host: string) => [
      'eject Cd1',
      `insert Cd1 ${bootIso(host).url}`,
      'eject Usb1',
      `insert Usb1 ${harvesterUrl}`,
      'boot Cd Once',
      'reset ForceRestart',
    ];

    // --dry-run: every step printed, in order; nothing sent but reads, nothing fetched.
    const before = serviceState(rf1);
    let r = await sh(rf1, ['h1.sh', '--dry-run', 'media-boot']);
    assert.is(r.code, 0, describe(r));
    assert.equal(changesSent(rf1.requests), []);
    assert.is(serviceState(rf1), before);
    assert.equal([...fetchedDuring.keys()], []);
    const [cd, usb] = [media(rf1, 'Cd1'), media(rf1, 'Usb1')];
    assert.equal(
      r.stdout.split('\n').filter((l) => /^h1: would /.test(l)),
      [
        `h1: would POST ${cd}/Actions/VirtualMedia.EjectMedia`,
        `h1: would read back Inserted false, no Image at ${cd}`,
        `h1: would POST ${cd}/Actions/VirtualMedia.InsertMedia`,
        `h1: would read back Image ${bootIso('h1').url}, Inserted at ${cd}`,
        `h1: would POST ${usb}/Actions/VirtualMedia.EjectMedia`,
        `h1: would read back Inserted false, no Image at ${usb}`,
        `h1: would POST ${usb}/Actions/VirtualMedia.InsertMedia`,
        `h1: would read back Image ${harvesterUrl}, Inserted at ${usb}`,
        'h1: would PATCH /redfish/v1/Systems/sys-1',
        'h1: would read back Cd, Once, UEFI at /redfish/v1/Systems/sys-1',
        'h1: would POST /redfish/v1/Systems/sys-1/Actions/ComputerSystem.Reset',
        'h1: would read back PowerState On at /redfish/v1/Systems/sys-1',
      ],
    );
    assert.ok(r.stdout.includes(`h1:   {"Image":"${harvesterUrl}"}\n`), 'the body of the second insert');

    // The USB stick, not the second CD: the boot to Cd has one drive to start from.
    for (const [rf, host] of [
      [rf1, 'h1'],
      [rf2, 'h2'],
    ] as const) {
      r = await sh(rf, [`${host}.sh`, 'media-boot']);
      assert.is(r.code, 0, describe(r));
      const images = [
        { media: 'Cd1', ...bootIso(host) },
        { media: 'Usb1', ...harvester },
      ];
      assert.is(isoLocalProblem(rf, { steps: fourSteps(host), images, fetchedDuring }), undefined, host);
      assert.equal([rf.media.Cd2!.Image, rf.media.Floppy1!.Image], [null, null], `${host}: the other media untouched`);
      assert.match(
        r.stdout,
        new RegExp(`${host}: booting its boot ISO \\(inserted in ${media(rf, 'Cd1')}, the Harvester ISO in ${media(rf, 'Usb1')},`),
      );
    }
    // Two CDs: the second one.
    r = await sh(rf3, ['h3.sh', 'media-boot']);
    assert.is(r.code, 0, describe(r));
    const steps3 = [`insert Cd1 ${bootIso('h3').url}`, `insert Cd2 ${harvesterUrl}`, 'boot Cd Once', 'reset ForceRestart'];
    const images3 = [
      { media: 'Cd1', ...bootIso('h3') },
      { media: 'Cd2', ...harvester },
    ];
    assert.is(isoLocalProblem(rf3, { steps: steps3, images: images3, fetchedDuring }), undefined);

    // One slot that takes an image: stopped before any change (a dry run too), and says why.
    const alone = serviceState(rf4);
    for (const args of [
      ['h4.sh', '--dry-run', 'media-boot'],
      ['h4.sh', 'media-boot'],
    ]) {
      r = await sh(rf4, args);
      assert.is(r.code, 1, describe(r));
      assert.match(
        r.stderr,
        /^h4: media-boot: the BMC offers one virtual media slot \(.*\/Cd1; .* has no other USB stick, CD or DVD\); install\.iso_url: local needs a second for the Harvester ISO \(or remove iso_url: local/,
      );
      assert.equal(changesSent(rf4.requests), [], args.join(' '));
      assert.is(serviceState(rf4), alone);
    }
    assert.equal(rf4.systems['sys-1']!.boots, [], 'no reset');

    // eject: both emptied, each read back; then nothing to do, nothing sent.
    r = await sh(rf1, ['h1.sh', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(rf1.requests.filter((q) => q.method !== 'GET').map(mediaStep), ['eject Cd1', 'eject Usb1']);
    for (const id of ['Cd1', 'Usb1']) assert.equal([rf1.media[id]!.Image, rf1.media[id]!.Inserted], [null, false], id);
    assert.equal(r.stdout.split('\n').slice(-3, -1), [
      `h1: ejected ${bootIso('h1').url} from ${cd}; read back: empty`,
      `h1: ejected ${harvesterUrl} from ${usb}; read back: empty`,
    ]);
    r = await sh(rf1, ['h1.sh', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(changesSent(rf1.requests), []);
    assert.equal(r.stdout.split('\n').slice(-3, -1), [
      `h1: the virtual CD ${cd} is empty: nothing to eject`,
      `h1: the virtual medium for the Harvester ISO ${usb} is empty: nothing to eject`,
    ]);
    // The PATCH form, with ETags required: each medium's own.
    r = await sh(rf2, ['h2.sh', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(rf2.requests.filter((q) => q.method !== 'GET').map(mediaStep), ['eject Cd1', 'eject Usb1']);
    // With one slot, eject empties the CD and says there is no second.
    r = await sh(rf4, ['h4.sh', 'eject']);
    assert.is(r.code, 0, describe(r));
    assert.equal(rf4.requests.filter((q) => q.method !== 'GET').map(mediaStep), ['eject Cd1']);
    assert.is(r.stdout.split('\n').at(-2), 'h4: the BMC offers no second virtual medium: no Harvester ISO to eject');

    // Mutation: a script that inserts the Harvester ISO in the CD itself is caught by the same check.
    Object.assign(rf1.media.Cd1!, old);
    Object.assign(rf1.media.Usb1!, { Inserted: true, Image: 'http://old/old.img' });
    rf1.fetches.length = 0;
    const text = readFileSync(path.join(out, 'bmc', 'h1.sh'), 'utf8');
    const same = text.replace('    read_member "$second"\n    fill_media "$harvester_iso_url"\n', '    fill_media "$harvester_iso_url"\n');
    assert.is.not(same, text, 'the mutation applies');
    writeFileSync(path.join(out, 'bmc', 'h1-same.sh'), same, { mode: 0o755 });
    r = await sh(rf1, ['h1-same.sh', 'media-boot']);
    assert.is(r.code, 0, describe(r));
    const images = [
      { media: 'Cd1', ...bootIso('h1') },
      { media: 'Usb1', ...harvester },
    ];
    assert.ok(isoLocalProblem(rf1, { steps: fourSteps('h1'), images, fetchedDuring }), 'the Harvester ISO in the CD is caught');
  } finally {
    await closeServer(http.server);
    for (const rf of services) await rf.close();
  }
});

test('the test Redfish service fetches an inserted image as a BMC does: from http://127.0.0.1 only, bounded in size and time', async () => {
  const http = createServer((req, res) => {
    if (req.url === '/small.iso') res.end('small image');
    else if (req.url === '/big.iso') res.end(Buffer.alloc(5000, 1));
    else if (req.url === '/slow.iso')
      res.writeHead(200).write('a start and no end'); // never ended
    else if (req.url === '/moved.iso') res.writeHead(302, { Location: 'http://10.30.0.2/x.iso' }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  try {
    for (const patchOnly of [false, true]) {
      const rf = await startRedfishServer({
        user: USER,
        password: PASSWORD,
        quirks: { vmediaPatchOnly: patchOnly },
        media: { Cd1: { MediaTypes: ['CD'] } },
        imageFetch: { maxBytes: 1000, timeoutMs: 1000 },
      });
      try {
        /** Insert an image (by the action, or by PATCH), then eject it; the insert's status. */
        const insert = async (image: string): Promise<number> => {
          const [method, p, body] = patchOnly
            ? ['PATCH', rf.mediaPath('Cd1'), { Image: image, Inserted: true }]
            : ['POST', `${rf.mediaPath('Cd1')}/Actions/VirtualMedia.InsertMedia`, { Image: image }];
          const res = await fetch(`${rf.url}${p}`, {
            method,
            headers: { Authorization: auth, 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
            // A service that waits on an image past its own timeout fails here, not by hanging the test.
            signal: AbortSignal.timeout(15_000),
          });
          await res.arrayBuffer();
          Object.assign(rf.media.Cd1!, { Image: null, Inserted: false });
          return res.status;
        };
        const label = patchOnly ? 'PATCH' : 'InsertMedia';
        assert.is(await insert(`${base}/small.iso`), 204, label);
        assert.is(await insert('http://10.30.0.2/ipxe.iso'), 204, `${label}: a name elsewhere is not fetched and is inserted`);
        assert.is(await insert(`${base}/big.iso`), 400, `${label}: over the size cap`);
        const start = Date.now();
        assert.is(await insert(`${base}/slow.iso`), 400, `${label}: past the timeout`);
        assert.ok(Date.now() - start < 5000, `${label}: the fetch gave up at its timeout (${Date.now() - start} ms)`);
        assert.is(await insert(`${base}/moved.iso`), 400, `${label}: a redirect is not followed`);
        assert.is(await insert(`${base}/none.iso`), 400, `${label}: a 404`);
        assert.equal(
          rf.fetches.map((f) => [f.url.replace(base, ''), f.sha256 ?? f.error]),
          [
            ['/small.iso', createHash('sha256').update('small image').digest('hex')],
            ['/big.iso', 'larger than 1000 bytes'],
            ['/slow.iso', 'no answer within 1000 ms'],
            ['/moved.iso', 'HTTP 302'],
            ['/none.iso', 'HTTP 404'],
          ],
          label,
        );
        assert.is(rf.fetches[0]!.bytes, 'small image'.length);
      } finally {
        await rf.close();
      }
    }
  } finally {
    await closeServer(http);
  }
});

// --- IPMI -------------------------------------------------------------------------------------

/** A free UDP port on 127.0.0.1. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('IPMI: power-status, power-cycle and pxe-once against ipmi_sim change its chassis as they say', async () => {
  if (!requireProgram('ipmitool', 'ipmi_sim')) return;
  const port = await freeUdpPort();
  const dir = tempDir('ipmi-sim');
  mkdirSync(path.join(dir, 'state'));
  // The chassis program ipmi_sim runs for power and boot device (OpenIPMI lanserv/bmc_chassis.c:
  // `<prog> get power boot` prints `power:N` lines; `<prog> set power "1"` sets).
  writeFileSync(
    path.join(dir, 'chassis.sh'),
    `#!/bin/sh
dir='${dir}'
echo "$*" >> "$dir/calls.log"
op=$1; shift
case $op in
  get) for p in "$@"; do
         case $p in
           power) printf 'power:%s\\n' "$(cat "$dir/power" 2>/dev/null || echo 0)";;
           boot) printf 'boot:%s\\n' "$(cat "$dir/boot" 2>/dev/null || echo none)";;
         esac
       done;;
  set) while [ $# -ge 2 ]; do echo "$2" > "$dir/$1"; shift 2; done;;
esac
`,
    { mode: 0o755 },
  );
  writeFileSync(
    path.join(dir, 'lan.conf'),
    `name "harvgen-bmc-test"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${dir}/chassis.sh"
  user 2 true "${USER}" "${IPMI_PW}" admin 10 none md2 md5 straight
`,
  );
  writeFileSync(
    path.join(dir, 'sim.emu'),
    'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n',
  );
  // In a session of its own (setsid): ipmi_sim must not signal the test's process group.
  const sim = startDaemon('ipmi_sim', [
    'setsid',
    'ipmi_sim',
    '-c',
    path.join(dir, 'lan.conf'),
    '-f',
    path.join(dir, 'sim.emu'),
    '-s',
    path.join(dir, 'state'),
    '-n',
  ]);
  try {
    const out = await bmcSite(1, port);
    const { bin, log } = wrappers(['ipmitool']);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, T_IPMI_USER: USER, T_IPMI_PASSWORD: IPMI_PW };
    const sh = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      run([path.join(out, 'bmc', args[0]!), ...args.slice(1)], { env: { ...env, ...extra }, timeoutMs: 60_000 });
    const state = (name: string) => (existsSync(path.join(dir, name)) ? readFileSync(path.join(dir, name), 'utf8').trim() : '');
    const ready = await waitFor(async () => (await sh(['i1.sh', 'power-status'])).code === 0, 10_000, 200);
    assert.ok(ready, `ipmi_sim did not answer:\n${sim.output()}`);

    let r = await sh(['i1.sh', 'power-status']);
    assert.is(r.stdout, 'i1: off\n', describe(r));
    r = await sh(['i1.sh', 'power-cycle']);
    assert.is(r.code, 0, describe(r));
    assert.is(state('power'), '1', 'a machine that was off is powered on');
    assert.match(r.stdout, /power on \(was off\); power reads on/);
    writeFileSync(path.join(dir, 'calls.log'), '');
    r = await sh(['i1.sh', 'power-cycle']);
    assert.is(r.code, 0, describe(r));
    // ipmi_sim's cycle: power off now, on again a second later.
    assert.ok(await waitFor(() => /set power "?1/.test(readFileSync(path.join(dir, 'calls.log'), 'utf8')), 5000), 'powered on again');
    assert.match(readFileSync(path.join(dir, 'calls.log'), 'utf8'), /set power "?0"?\n[\s\S]*set power "?1/, 'off, then on: a cycle');
    r = await sh(['i1.sh', 'power-status']);
    assert.is(r.stdout, 'i1: on\n', describe(r));

    // --dry-run: the read runs, the change is printed, not made.
    r = await sh(['i1.sh', '--dry-run', 'pxe-once']);
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /i1: would run ipmitool -I lanplus -H 127\.0\.0\.1 -p \d+ -U admin -E chassis bootdev pxe options=efiboot\n/);
    assert.match(r.stdout, /i1: dry run: nothing was changed\n$/);
    assert.is.not(state('boot').replace(/"/g, ''), 'pxe', 'a dry run changes nothing');

    const bmcLog = path.join(dir, 'bmc.log');
    r = await sh(['i1.sh', 'pxe-once'], { HARVGEN_BMC_LOG: bmcLog });
    assert.is(r.code, 0, describe(r));
    assert.is(state('boot').replace(/"/g, ''), 'pxe', 'the boot device is PXE');
    assert.match(r.stdout, /i1: boots from the network once at its next start \(IPMI bootdev pxe options=efiboot; read back\)/);
    assert.match(
      readFileSync(bmcLog, 'utf8'),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\tbmcreal\ti1\tpxe-once\t0\tboots from the network once at its next start \(IPMI bootdev pxe options=efiboot; read back\)\n$/,
      'one log line for the change',
    );
    r = await sh(['i1.sh', 'status'], { HARVGEN_BMC_LOG: bmcLog });
    assert.is(r.code, 0, describe(r));
    // ipmi_sim keeps the device selector only, not the valid, persistent and EFI flags.
    assert.match(r.stdout, /^i1: power on\ni1: boot device Force PXE \((not )?valid, next boot only, (EFI|legacy)\)\n$/, describe(r));
    assert.is(readFileSync(bmcLog, 'utf8').split('\n').length, 2, 'status (a read) is not logged');
    const param = await run(
      ['ipmitool', '-I', 'lanplus', '-H', '127.0.0.1', '-p', String(port), '-U', USER, '-E', 'chassis', 'bootparam', 'get', '5'],
      {
        env: { ...process.env, IPMI_PASSWORD: IPMI_PW },
      },
    );
    assert.match(param.stdout, /Boot Device Selector : Force PXE/, describe(param));

    // Refusals and failures.
    r = await sh(['i1.sh', 'http-boot-once']);
    assert.is(r.code, 2, describe(r));
    assert.match(r.stderr, /needs a Redfish BMC/);
    r = await sh(['i1.sh', 'virtual-media', 'http://x/ipxe.iso']);
    assert.is(r.code, 2, describe(r));
    r = await sh(['i1.sh', 'power-status'], { T_IPMI_PASSWORD: 'wrong' });
    assert.is(r.code, 1, describe(r));
    assert.match(r.stderr, /i1: ipmitool chassis power status: /);

    // The password reached ipmitool in its environment only.
    const calls = readFileSync(log, 'utf8');
    assert.ok(calls.includes('ipmitool -I lanplus') && calls.includes('env IPMI_PASSWORD=set'), calls);
    const envs = readFileSync(`${log}.env`, 'utf8');
    assert.ok(envs.includes('T_IPMI_USER=admin'), 'the environments were recorded');
    assert.not.ok(envs.includes(IPMI_PW) || envs.includes('T_IPMI_PASSWORD='), 'the password only as IPMI_PASSWORD, to ipmitool');
    assert.not.ok(calls.includes(IPMI_PW) || calls.includes('wrong'), `a password in ipmitool's argv:\n${calls}`);
    assert.match(calls, /chassis bootdev pxe options=efiboot/, 'UEFI site: the EFI boot flag is asked for (ipmi_sim does not keep it)');

    // Mutations: a script that sets the disk as the boot device is caught by its own read-back
    // (exit 3, twice written); without the read-back, by this test's check of the simulator.
    writeFileSync(path.join(dir, 'boot'), 'none');
    const text = readFileSync(path.join(out, 'bmc', 'i1.sh'), 'utf8');
    const mutate = (name: string, edit: (t: string) => string) => {
      const changed = edit(text);
      assert.is.not(changed, text, `the mutation ${name} applies`);
      writeFileSync(path.join(out, 'bmc', name), changed, { mode: 0o755 });
    };
    mutate('i1-disk.sh', (t) => t.replace(/chassis bootdev pxe/g, 'chassis bootdev disk'));
    writeFileSync(path.join(dir, 'calls.log'), '');
    r = await sh(['i1-disk.sh', 'pxe-once'], { HARVGEN_BMC_WAIT: '2', HARVGEN_BMC_POLL: '0' });
    assert.is(r.code, 3, describe(r));
    assert.match(
      r.stderr,
      /i1: the BMC accepted bootdev pxe but its boot device selector reads Force Boot from default Hard-Drive, not Force PXE \(after 2 writes\)/,
    );
    mutate('i1-unread.sh', (t) =>
      t.replace(/chassis bootdev pxe/g, 'chassis bootdev disk').replace('if ! read_pxe; then', 'if false; then'),
    );
    r = await sh(['i1-unread.sh', 'pxe-once']);
    assert.is(r.code, 0, describe(r));
    assert.is.not(state('boot').replace(/"/g, ''), 'pxe', 'the wrong boot device is caught');
  } finally {
    await sim.stop();
  }
});

test.run();
