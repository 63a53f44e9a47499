// The Harvester installer's own code (../shared/installer-oracle/: its source for v1.4.3, v1.5.2,
// v1.6.1, v1.7.1, v1.8.1 and v1.9.0-rc6, unmodified) judges every config of the repository's
// fixtures, at the release each node installs (a release line's oracle judges its other patch
// releases; v1.2 and v1.3 are not kept and are listed as unjudged):
//   - every config of a golden, layered, real-program, example or check fixture site that `check`
//     accepts is accepted through the installer's last step the oracle runs (ConvertToCOS and the
//     partition layout), and it is the config file the tree holds, byte for byte;
//   - every check fixture that `check` refuses with a rule that says the installer refuses is
//     refused by the installer too, or STRICTER below says why harvgen refuses it.
// The deploy tree is judged (secrets filled in): the committed tree's markers are no token.
// Also here: the fact behind refusing an EUI-64 VIP MAC (Linux refuses an 8-byte address on a
// macvlan interface), shown on this kernel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODES } from '../../src/index.ts';
import { INSTALLER_RULES } from '../../src/harvester/installer-rules.ts';
import { checkSites, compileForOracle, goldenSites, type CompiledForOracle } from './helpers/oracle-sites.ts';
import { acceptedWhole, installerInput, judge, judgeAll, oraclesReady, refusal, type OracleVerdict } from './helpers/installer-oracle.ts';
import { baseSite } from './helpers/installer-corpus.ts';
import { compileSite } from '../../src/pipeline.ts';
import type { HarvesterNode } from '../../src/model/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { run, describe } from './helpers/proc.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import path from 'node:path';

/** Codes whose rule says the installer refuses the config or stops the install. */
const INSTALLER_REFUSALS = new Set<string>([
  ...INSTALLER_RULES.map((r) => r.code).filter((c) => CODES[c].severity === 'error'),
  'HARVESTER_BIOS_UNSUPPORTED',
  'HARVESTER_CONFIG_INVALID',
  'CLUSTER_NO_CREDENTIALS',
  'CLUSTER_TOKEN_CHARSET',
  'CLUSTER_VIP_HW_ADDR',
  'NODE_DEVICE_MISSING',
  'NODE_HOSTNAME_INVALID',
  'NODE_MTU_RANGE',
  'NODE_VLAN_RANGE',
  'NODE_NIC_EMPTY',
  'NODE_MAC_INVALID',
  'NODE_STATIC_WITHOUT_DNS',
  'NODE_STATIC_WITHOUT_IP',
  'NODE_DATA_DISK_IS_DEVICE',
  'NODE_WIPE_LIST_HAS_DEVICE',
]);

/**
 * Check fixtures refused with such a code that the installer's code accepts, and why: harvgen's
 * policy, a failure after the part the oracle runs (`later`), or a fact the oracle cannot fake
 * (`unproven`). `warns`: the warning the installer's code gives instead.
 */
const STRICTER: Readonly<Record<string, { kind: 'policy' | 'later' | 'unproven'; why: string; warns?: RegExp }>> = {
  'cluster-vip-hw-addr-node-mac': {
    kind: 'later',
    why: "the VIP's macvlan would carry a node NIC's MAC: two interfaces on the management network answer for one address",
  },
  'harvester-config-invalid': {
    kind: 'policy',
    why: '`skip_checks` is another spelling of `skipchecks`: the installer folds spellings (its FuzzyNames mapper), harvgen takes one',
  },
  'installer-device-missing': {
    kind: 'unproven',
    why: "the machine's measured facts list no disk at the path; the oracle fakes every disk a config names, so it cannot show a missing one (its code path, lstat on the path, is the device-path rule's, which the corpus runs)",
  },
  'installer-webhook-invalid': {
    kind: 'later',
    why: "the installer cannot prepare the webhook and drops every webhook of the node, harvgen's install reports included",
    warns: /^Invalid webhook/,
  },
  'node-data-disk-is-device': {
    kind: 'policy',
    why: 'a data disk equal to the install disk: the installer clears it, so the setting does nothing',
  },
  'node-hostname-dnsmasq-word': {
    kind: 'later',
    why: 'dnsmasq reads `12h` in the dhcp-host line harvgen writes as a lease time, not a name',
  },
  'node-hostname-fqdn': {
    kind: 'later',
    why: 'a fully qualified hostname breaks the install later: the node joins etcd under a second name (harvester/harvester#7312)',
  },
  'node-hostname-network': { kind: 'policy', why: "the node's lab VM would be libvirt/network.xml, the lab network's own file" },
  'node-wipe-list-has-device': { kind: 'policy', why: 'the install disk in the wipe list: it is formatted anyway' },
  'installer-dns-unused': {
    kind: 'later',
    why: "the installer writes an IPv6 DNS server into the bridge's IPv4 NetworkManager settings, which NetworkManager drops (the nmcli test below)",
  },
};

interface Judged {
  site: CompiledForOracle;
  verdicts: OracleVerdict[];
}

let judged: Promise<Judged[]> | undefined;
/** Every fixture site compiled as a deploy build, and each Harvester node's config judged. */
function judgeFixtures(): Promise<Judged[]> {
  judged ??= (async () => {
    const out: Judged[] = [];
    for (const s of [...goldenSites(), ...checkSites()]) {
      const site = await compileForOracle(s);
      out.push({ site, verdicts: await judgeAll(site.nodes.map((n) => n.input)) });
    }
    return out;
  })();
  return judged;
}

test('every config check accepts, the installer of its release accepts through ConvertToCOS', async () => {
  if (!(await oraclesReady())) return;
  const all = await judgeFixtures();
  const accepted = all.filter((j) => j.site.errors.length === 0);
  const refusedByInstaller: string[] = [];
  let count = 0;
  const unjudged: string[] = [];
  for (const { site, verdicts } of accepted) {
    site.nodes.forEach((n, k) => {
      count++;
      const v = verdicts[k]!;
      if (!acceptedWhole(v)) refusedByInstaller.push(`${site.site.label} ${n.hostname} (${n.version}, oracle ${v.version}): ${refusal(v)}`);
      // What the oracle judged is the file the tree holds.
      if (n.written !== undefined)
        assert.is(n.input.config, n.written, `${site.site.label} ${n.hostname}: the judged config is not the tree's`);
    });
    unjudged.push(...site.unjudged.map((u) => `${site.site.label} ${u}`));
  }
  console.log(
    `installer oracle: ${count} configs of ${accepted.length} accepted sites judged; not judged (v1.2, v1.3: no oracle): ${unjudged.length}`,
  );
  assert.ok(accepted.length >= 150, `only ${accepted.length} accepted fixture sites`);
  assert.ok(count >= 300, `only ${count} configs judged`);
  assert.ok(refusedByInstaller.length === 0, `SILENT PASS: check accepts, the installer refuses:\n${refusedByInstaller.join('\n')}`);
  assert.ok(
    accepted.every((j) => j.site.nodes.every((n) => n.written !== undefined)),
    'a config judged without the file the tree holds',
  );
});

test('every fixture check refuses with an installer rule, the installer refuses too, or STRICTER says why', async () => {
  if (!(await oraclesReady())) return;
  const all = await judgeFixtures();
  const disagree: string[] = [];
  const explained = new Set<string>();
  let agreed = 0;
  for (const { site, verdicts } of all) {
    const refusing = site.errors.filter((d) => INSTALLER_REFUSALS.has(d.code));
    const codes = [...new Set(refusing.map((d) => d.code))];
    if (codes.length === 0 || site.nodes.length === 0) continue;
    const name = /^check\/([^/]+)\//.exec(site.site.label)?.[1];
    // The installer must refuse a node an error names (`nodes[<i>]...`), or any node for an error of the site.
    const named = new Set(refusing.flatMap((d) => /^nodes\[(\d+)\]/.exec(d.path ?? '')?.[1] ?? []).map(Number));
    const refusedNodes = site.nodes.filter((n, k) => !acceptedWhole(verdicts[k]!) && (named.size === 0 || named.has(n.index)));
    if (refusedNodes.length > 0) {
      agreed++;
      continue;
    }
    const why = name !== undefined ? STRICTER[name] : undefined;
    if (why === undefined) {
      disagree.push(`${site.site.label} (${codes.join(', ')}): the installer accepts every node's config`);
      continue;
    }
    explained.add(name!);
    if (why.warns)
      assert.ok(
        verdicts.some((v) => v.warnings.some((w) => why.warns!.test(w))),
        `${site.site.label}: no installer warning ${why.warns}`,
      );
  }
  console.log(`installer refusals: ${agreed} fixtures refused by both, ${explained.size} stricter with a reason`);
  assert.ok(agreed >= 15, `only ${agreed} fixtures refused by both`);
  assert.ok(disagree.length === 0, `harvgen refuses with an installer rule, the installer accepts:\n${disagree.join('\n')}`);
  const stale = Object.keys(STRICTER).filter((k) => !explained.has(k));
  assert.equal(stale, [], 'STRICTER names fixtures that are no longer stricter');
});

test('an 8-byte (EUI-64) MAC cannot go on a macvlan interface, where the VIP MAC goes; a 6-byte one can', async () => {
  if (!requireRoot() || !requireProgram('unshare', 'ip')) return;
  const script = [
    'ip link add hv0 type veth peer name hv1',
    'if ip link add link hv0 name vip8 address 02:00:00:00:00:00:00:01 type macvlan 2>&1; then echo EIGHT_ACCEPTED; fi',
    'ip link add link hv0 name vip6 address 02:00:00:00:01:20 type macvlan && echo SIX_ACCEPTED',
  ].join('\n');
  const r = await run(['unshare', '-n', 'sh', '-c', script], { timeoutMs: 20_000 });
  assert.is(r.code, 0, describe(r));
  assert.not.match(r.stdout, 'EIGHT_ACCEPTED', describe(r));
  assert.match(r.stdout, 'Invalid argument', describe(r));
  assert.match(r.stdout, 'SIX_ACCEPTED', describe(r));
});

test("from v1.7 the installer writes a node's DNS servers into the bridge's IPv4 NetworkManager settings, where nmcli drops an IPv6 one", async () => {
  if (!(await oraclesReady()) || !requireProgram('nmcli')) return;
  const dir = tempDir('oracle-dns');
  writeFileSync(path.join(dir, 'site.yaml'), stringify(baseSite('v1.8.1')));
  const c = await compileSite(dir, { secrets: 'filled', cwd: dir });
  const node = c.model!.nodes.find((n) => n.hostname === 'n2') as HarvesterNode;
  const base = installerInput({}, c.model!, node)!;
  const config = base.config.replace('  dns_nameservers:\n    - 10.0.0.1\n', '  dns_nameservers:\n    - 2001:db8::53\n    - 10.0.0.53\n');
  assert.ok(config !== base.config, 'the config holds no DNS servers to change');
  const v = await judge({ ...base, config });
  assert.ok(acceptedWhole(v), `the installer refused: ${refusal(v)}`);
  const bridge = v.profiles?.['bridge-mgmt.nmconnection'];
  assert.ok(bridge !== undefined, `no bridge profile among ${Object.keys(v.profiles ?? {}).join(', ')}`);
  assert.match(bridge!, /\[ipv4\][^[]*dns=2001:db8::53;10\.0\.0\.53;/);
  // NetworkManager's own reading of that profile (no daemon: --offline).
  const r = await run(['nmcli', '--offline', 'connection', 'modify', 'connection.id', 'bridge-mgmt'], {
    input: bridge!,
    timeoutMs: 20_000,
  });
  assert.is(r.code, 0, describe(r));
  assert.match(r.stdout, /^dns=10\.0\.0\.53;$/m, describe(r));
  assert.not.match(r.stdout, '2001:db8::53', describe(r));
});

test('the oracle runs the installer source the shared folder keeps (six releases)', async () => {
  if (!(await oraclesReady())) return;
  const all = await judgeFixtures();
  const versions = new Set(all.flatMap((j) => j.verdicts.map((v) => v.version)));
  for (const t of ['v1.4.3', 'v1.5.2', 'v1.6.1', 'v1.7.1', 'v1.8.1', 'v1.9.0-rc6']) assert.ok(versions.has(t), `no fixture judged by ${t}`);
  assert.ok(path.isAbsolute(all[0]!.site.site.dir));
});

test.run();
