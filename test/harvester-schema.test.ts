import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import {
  installerKeySince,
  installerSchemaFor,
  validateInstallerConfig,
  type InstallerSchemaIssue,
} from '../src/harvester/installer-schema.ts';

type Config = Record<string, any>;

// The create config harvgen emits for a v1.4 site (YAML, so that types are real YAML types).
const CREATE_YAML = `
scheme_version: 1
token: SecretToken.123
os:
  hostname: hv-1
  password: "$6$abcdefgh$Qr7fG3b1k0t2mZ9yJ8wXvU5sT4pO3nM2lK1jI0hH9gF8eD7cB6aA5zY4xW3vU2tS1rQ0pO9nM8lK7jI6hH5gF4"
  ssh_authorized_keys: []
  ntp_servers: [0.suse.pool.ntp.org]
  dns_nameservers: [192.168.122.1]
install:
  mode: create
  management_interface:
    interfaces: [{ name: ens3, hwAddr: "52:54:00:aa:bb:01" }]
    method: dhcp
    bond_options: { mode: active-backup, miimon: 100 }
  device: /dev/vda
  iso_url: http://192.168.122.1/artifacts/harvester-v1.4.1-amd64.iso
  tty: tty1
  vip: 192.168.122.120
  vip_mode: static
  role: default
`;

// The create config of the PXE walkthrough seed, verbatim (it carries the ignored `default_route`).
const SEED_CREATE_YAML = `
scheme_version: 1
token: SecretToken.123
os:
  hostname: your-prefix
  password: SecretPassword.123
  ntp_servers:
  - 0.suse.pool.ntp.org
  - 1.suse.pool.ntp.org
install:
  mode: create
  management_interface:
    interfaces:
      - name: ens3
    default_route: true
    method: dhcp
    bond_options:
      mode: active-backup
      miimon: 100
  device: /dev/vda
  iso_url: http://192.168.122.1/harvester-v1.4.1-amd64.iso
  tty: tty1,115200n8
  vip: 192.168.122.120
  vip_mode: static
`;

function createConfig(): Config {
  return parse(CREATE_YAML) as Config;
}

function joinConfig(): Config {
  const c = createConfig();
  delete c.install.vip;
  delete c.install.vip_mode;
  c.install.mode = 'join';
  return { scheme_version: 1, server_url: 'https://192.168.122.120:443', ...c };
}

function staticConfig(): Config {
  const c = createConfig();
  Object.assign(c.install.management_interface, {
    method: 'static',
    ip: '192.168.122.11',
    subnet_mask: '255.255.255.0',
    gateway: '192.168.122.1',
  });
  return c;
}

/** Issues reduced to what the tests compare: path, keyword and key. */
function brief(issues: InstallerSchemaIssue[]): { path: (string | number)[]; keyword: string; key?: string }[] {
  return issues.map(({ path, keyword, key }) => (key === undefined ? { path, keyword } : { path, keyword, key }));
}

function assertValid(minor: string, config: unknown): void {
  const issues = validateInstallerConfig(minor, config);
  assert.equal(issues, [], `expected valid for v${minor}: ${JSON.stringify(issues)}`);
}

const SINCE_LINES = ['1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9'];

test('the v1.4 create config harvgen emits is valid for v1.4, v1.5 and v1.8', () => {
  for (const minor of ['1.4', '1.5', '1.8']) assertValid(minor, createConfig());
});

test('the join config harvgen emits is valid for v1.4, v1.5 and v1.8', () => {
  for (const minor of ['1.4', '1.5', '1.8']) assertValid(minor, joinConfig());
});

test('a static management network with ip, subnet_mask, gateway and DNS servers is valid', () => {
  assertValid('1.4', staticConfig());
});

test('the seed PXE config fails only on default_route, which is an unknown key', () => {
  const issues = validateInstallerConfig('1.4', parse(SEED_CREATE_YAML));
  assert.equal(brief(issues), [{ path: ['install', 'management_interface'], keyword: 'additionalProperties', key: 'default_route' }]);
  assert.match(issues[0]?.message ?? '', 'unknown key "default_route"');
});

test('install.wipe_all_disks is unknown to v1.4 and accepted from v1.5', () => {
  const c = createConfig();
  c.install.wipe_all_disks = true;
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['install'], keyword: 'additionalProperties', key: 'wipe_all_disks' }]);
  assert.is(issues[0]?.message, 'unknown key "wipe_all_disks" (not known by Harvester v1.4; added in v1.5)');
  assertValid('1.5', c);
});

test('install.wipedisks is accepted up to v1.4 and unknown from v1.5', () => {
  const c = createConfig();
  c.install.wipedisks = true;
  assertValid('1.4', c);
  const issues = validateInstallerConfig('1.5', c);
  assert.equal(brief(issues), [{ path: ['install'], keyword: 'additionalProperties', key: 'wipedisks' }]);
  assert.match(issues[0]?.message ?? '', 'removed in v1.5');
});

test('sans is unknown to v1.5 and accepted from v1.6', () => {
  const c = createConfig();
  c.sans = ['harvester.example.com'];
  const issues = validateInstallerConfig('1.5', c);
  assert.equal(brief(issues), [{ path: [], keyword: 'additionalProperties', key: 'sans' }]);
  assert.match(issues[0]?.message ?? '', 'added in v1.6');
  assertValid('1.6', c);
});

test('install.role and install.skipchecks are unknown to v1.2', () => {
  const c = createConfig();
  c.install.skipchecks = true;
  assert.equal(brief(validateInstallerConfig('1.2', c)), [
    { path: ['install'], keyword: 'additionalProperties', key: 'role' },
    { path: ['install'], keyword: 'additionalProperties', key: 'skipchecks' },
  ]);
  assertValid('1.3', c);
});

test('a quoted vlan_id is rejected because it is a string, not an integer', () => {
  const c = parse(CREATE_YAML.replace('method: dhcp', 'method: dhcp\n    vlan_id: "100"')) as Config;
  const issues = validateInstallerConfig('1.8', c);
  assert.equal(brief(issues), [{ path: ['install', 'management_interface', 'vlan_id'], keyword: 'type' }]);
  assert.is(issues[0]?.message, 'must be integer');
  c.install.management_interface.vlan_id = 100;
  assertValid('1.8', c);
});

test('vlan_id 4095 is out of range', () => {
  const c = createConfig();
  c.install.management_interface.vlan_id = 4095;
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['install', 'management_interface', 'vlan_id'], keyword: 'maximum' }]);
});

test('write_files permissions given as a YAML integer is rejected; a quoted mode passes', () => {
  const files = '\n  write_files:\n  - path: /etc/motd\n    content: hello\n    permissions: 644\n';
  const c = parse(CREATE_YAML.replace('\ninstall:', `${files}install:`)) as Config;
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['os', 'write_files', 0, 'permissions'], keyword: 'type' }]);
  c.os.write_files[0].permissions = '0644';
  assertValid('1.4', c);
});

test('mode Create (capitalised) is rejected', () => {
  const c = createConfig();
  c.install.mode = 'Create';
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['install', 'mode'], keyword: 'enum' }]);
  assert.is(issues[0]?.message, 'must be one of "create", "join"');
});

test('a join config without server_url is rejected', () => {
  const c = joinConfig();
  delete c.server_url;
  const issues = validateInstallerConfig('1.5', c);
  assert.equal(brief(issues), [{ path: [], keyword: 'required', key: 'server_url' }]);
  assert.match(issues[0]?.message ?? '', 'required when install.mode is join');
});

test('a create config with server_url is rejected; an empty one passes (the installer reads it as unset)', () => {
  const c = createConfig();
  c.server_url = 'https://192.168.122.120:443';
  assert.equal(brief(validateInstallerConfig('1.5', c)), [{ path: ['server_url'], keyword: 'const' }]);
  c.server_url = '';
  assert.equal(brief(validateInstallerConfig('1.5', c)), []);
});

test('a join config with an empty server_url is rejected', () => {
  const c = joinConfig();
  c.server_url = '';
  assert.equal(brief(validateInstallerConfig('1.5', c)), [{ path: ['server_url'], keyword: 'minLength' }]);
});

test('a server_url with a non-443 port or a path is rejected', () => {
  for (const url of ['https://192.168.122.120:6443', 'https://192.168.122.120/x', 'http://192.168.122.120']) {
    const c = joinConfig();
    c.server_url = url;
    assert.equal(brief(validateInstallerConfig('1.5', c)), [{ path: ['server_url'], keyword: 'pattern' }], url);
  }
});

test('a create config without vip is rejected', () => {
  const c = createConfig();
  delete c.install.vip;
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['install'], keyword: 'required', key: 'vip' }]);
});

test('vip_mode dhcp without vip_hw_addr is rejected', () => {
  const c = createConfig();
  c.install.vip_mode = 'dhcp';
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['install'], keyword: 'required', key: 'vip_hw_addr' }]);
  c.install.vip_hw_addr = '52:54:00:aa:bb:99';
  assertValid('1.4', c);
});

test('a static management network without gateway is rejected', () => {
  const c = staticConfig();
  delete c.install.management_interface.gateway;
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['install', 'management_interface'], keyword: 'required', key: 'gateway' }]);
  assert.match(issues[0]?.message ?? '', 'required when method is static');
});

test('a static management network without DNS servers is rejected', () => {
  const c = staticConfig();
  c.os.dns_nameservers = [];
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['os', 'dns_nameservers'], keyword: 'minItems' }]);
  delete c.os.dns_nameservers;
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['os'], keyword: 'required', key: 'dns_nameservers' }]);
});

test('a subnet mask given as a prefix length is rejected', () => {
  const c = staticConfig();
  c.install.management_interface.subnet_mask = '24';
  assert.equal(brief(validateInstallerConfig('1.4', c)), [
    { path: ['install', 'management_interface', 'subnet_mask'], keyword: 'pattern' },
  ]);
});

test('mtu 500 is rejected on a static network (the only one the installer checks) while 0 and 1500 are accepted', () => {
  const dhcp = createConfig();
  dhcp.install.management_interface.mtu = 500;
  assertValid('1.4', dhcp);
  const c = staticConfig();
  c.install.management_interface.mtu = 500;
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['install', 'management_interface', 'mtu'], keyword: 'anyOf' }]);
  assert.is(issues[0]?.message, 'must be 0 or between 576 and 9000');
  for (const mtu of [0, 1500, 9000]) {
    c.install.management_interface.mtu = mtu;
    assertValid('1.4', c);
  }
});

test('scheme_version 2 is rejected', () => {
  const c = createConfig();
  c.scheme_version = 2;
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['scheme_version'], keyword: 'const' }]);
  assert.is(issues[0]?.message, 'must be 1');
});

test('a token with non-ASCII characters is rejected', () => {
  const c = createConfig();
  c.token = 'Geheimnis-ä';
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['token'], keyword: 'pattern' }]);
});

test('the token pattern accepts exactly the printable ASCII characters', () => {
  const full = JSON.parse(readFileSync(new URL('../schema/harvester-config.schema.json', import.meta.url), 'utf8'));
  const re = new RegExp(full.properties.token.pattern, 'u');
  for (let code = 0; code < 256; code++) {
    const ch = String.fromCharCode(code);
    assert.is(re.test(`a${ch}b`), code >= 0x20 && code <= 0x7e, `char code ${code}`);
  }
});

test('a config with neither a password nor SSH keys is rejected', () => {
  const c = createConfig();
  delete c.os.password;
  const issues = validateInstallerConfig('1.4', c);
  assert.equal(brief(issues), [{ path: ['os'], keyword: 'anyOf' }]);
  c.os.ssh_authorized_keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHarvgenTestKey admin@example'];
  assertValid('1.4', c);
});

test('a password starting with $ that is not a crypt hash is rejected', () => {
  const c = createConfig();
  c.os.password = '$ecret';
  assert.equal(brief(validateInstallerConfig('1.4', c)), [{ path: ['os', 'password'], keyword: 'pattern' }]);
});

test('system setting vm-migration-network is unknown to v1.7 and accepted from v1.8', () => {
  const c = createConfig();
  c.system_settings = { 'vm-migration-network': '{"vlan":100}', 'ntp-servers': '{"ntpServers":["0.suse.pool.ntp.org"]}' };
  const issues = validateInstallerConfig('1.7', c);
  assert.equal(brief(issues), [{ path: ['system_settings'], keyword: 'additionalProperties', key: 'vm-migration-network' }]);
  assert.match(issues[0]?.message ?? '', 'added in v1.8');
  assertValid('1.8', c);
  assertValid('1.9', c);
});

test('an unknown system setting is rejected', () => {
  const c = createConfig();
  c.system_settings = { 'no-such-setting': 'x' };
  const issues = validateInstallerConfig('1.8', c);
  assert.equal(brief(issues), [{ path: ['system_settings'], keyword: 'additionalProperties', key: 'no-such-setting' }]);
  assert.is(issues[0]?.message, 'unknown key "no-such-setting"');
});

test('storageReservedPercentageForDefaultDisk is unknown to v1.6 and accepted from v1.7', () => {
  const c = createConfig();
  c.install.harvester = { longhorn: { default_settings: { storageReservedPercentageForDefaultDisk: 15 } } };
  assert.equal(brief(validateInstallerConfig('1.6', c)), [
    {
      path: ['install', 'harvester', 'longhorn', 'default_settings'],
      keyword: 'additionalProperties',
      key: 'storageReservedPercentageForDefaultDisk',
    },
  ]);
  assertValid('1.7', c);
  c.install.harvester.longhorn.default_settings.storageReservedPercentageForDefaultDisk = 31;
  assert.equal(brief(validateInstallerConfig('1.7', c)), [
    { path: ['install', 'harvester', 'longhorn', 'default_settings', 'storageReservedPercentageForDefaultDisk'], keyword: 'maximum' },
  ]);
});

test('addon descheduler needs v1.7 and kubeovn_operator needs v1.6', () => {
  const c = createConfig();
  c.install.addons = { rancher_monitoring: { enabled: true }, kubeovn_operator: { enabled: false }, descheduler: { enabled: true } };
  assert.equal(brief(validateInstallerConfig('1.5', c)), [
    { path: ['install', 'addons'], keyword: 'additionalProperties', key: 'kubeovn_operator' },
    { path: ['install', 'addons'], keyword: 'additionalProperties', key: 'descheduler' },
  ]);
  assert.equal(brief(validateInstallerConfig('1.6', c)), [
    { path: ['install', 'addons'], keyword: 'additionalProperties', key: 'descheduler' },
  ]);
  assertValid('1.7', c);
});

test('multiPathConfig takes the list form from v1.4 and the object form from v1.7', () => {
  const list = createConfig();
  list.os.externalStorageConfig = { enabled: true, multiPathConfig: [{ vendor: 'QEMU', product: 'QEMU HARDDISK' }] };
  assertValid('1.4', list);
  assertValid('1.8', list);
  assert.equal(brief(validateInstallerConfig('1.3', list)), [
    { path: ['os'], keyword: 'additionalProperties', key: 'externalStorageConfig' },
  ]);
  const obj = createConfig();
  obj.os.externalStorageConfig = { enabled: true, multiPathConfig: { blacklistWwids: ['0QEMU_QEMU_HARDDISK_disk1'] } };
  const issues = validateInstallerConfig('1.6', obj);
  assert.equal(brief(issues), [{ path: ['os', 'externalStorageConfig', 'multiPathConfig'], keyword: 'type' }]);
  assert.match(issues[0]?.message ?? '', 'accepted from v1.7');
  assertValid('1.7', obj);
});

test('force_mbr true is accepted up to v1.7 and rejected from v1.8', () => {
  const c = createConfig();
  c.install.force_mbr = true;
  assertValid('1.7', c);
  assert.equal(brief(validateInstallerConfig('1.8', c)), [{ path: ['install', 'force_mbr'], keyword: 'const' }]);
  c.install.force_mbr = false;
  assertValid('1.8', c);
});

test('a witness node with data_disk is accepted, as by the installer (the rules judge it per release)', () => {
  const c = createConfig();
  c.install.role = 'witness';
  c.install.data_disk = '/dev/vdb';
  assertValid('1.4', c);
  assertValid('1.6', c);
});

test('a webhook method of any case is accepted by the schema (the installer upper-cases it)', () => {
  const c = createConfig();
  c.install.webhooks = [{ event: 'STARTED', method: 'post', url: 'http://10.0.0.1/x' }];
  assertValid('1.5', c);
});

test('the internal installer keys and default_route are rejected as unknown', () => {
  const cases: [string[], string][] = [
    [[], 'runtime_version'],
    [[], 'rancher_version'],
    [[], 'harvester_chart_version'],
    [[], 'monitoring_chart_version'],
    [[], 'logging_chart_version'],
    [[], 'kubeovn_chart_version'],
    [['install'], 'automatic'],
    [['install'], 'config_url'],
    [['install'], 'silent'],
    [['install'], 'no_format'],
    [['install'], 'force_gpt'],
    [['install'], 'raw_disk_image_path'],
    [['install', 'management_interface'], 'default_route'],
  ];
  for (const [parent, key] of cases) {
    const c = createConfig();
    let target: Config = c;
    for (const seg of parent) target = target[seg];
    target[key] = key.endsWith('_version') || key.endsWith('_url') || key.endsWith('_path') ? 'x' : true;
    assert.equal(brief(validateInstallerConfig('1.8', c)), [{ path: parent, keyword: 'additionalProperties', key }], key);
  }
  const c = createConfig();
  c.install.harvester = { enable_go_cover_dir: true };
  assert.equal(brief(validateInstallerConfig('1.8', c)), [
    { path: ['install', 'harvester'], keyword: 'additionalProperties', key: 'enable_go_cover_dir' },
  ]);
});

test('aliases the installer would accept are rejected in favour of the docs spelling', () => {
  const c = createConfig();
  c.install.skip_checks = true;
  c.install.power_off = true;
  c.os.sshAuthorizedKeys = [];
  assert.equal(brief(validateInstallerConfig('1.8', c)), [
    { path: ['os'], keyword: 'additionalProperties', key: 'sshAuthorizedKeys' },
    { path: ['install'], keyword: 'additionalProperties', key: 'skip_checks' },
    { path: ['install'], keyword: 'additionalProperties', key: 'power_off' },
  ]);
});

test('webhook headers must map names to lists of strings', () => {
  const c = createConfig();
  c.install.webhooks = [
    { event: 'SUCCEEDED', method: 'POST', url: 'http://192.168.122.1/done/{{.Hostname}}', headers: { 'X-Node': ['hv-1'] } },
  ];
  assertValid('1.4', c);
  c.install.webhooks[0].headers = { 'X-Node': 'hv-1' };
  c.install.webhooks[0].event = 'succeeded';
  assert.equal(brief(validateInstallerConfig('1.4', c)), [
    { path: ['install', 'webhooks', 0, 'event'], keyword: 'enum' },
    { path: ['install', 'webhooks', 0, 'headers', 'X-Node'], keyword: 'type' },
  ]);
});

test('installerKeySince reports the release line that added a key or its parent', () => {
  assert.is(installerKeySince(['install', 'wipe_all_disks']), '1.5');
  assert.is(installerKeySince(['install', 'role']), '1.3');
  assert.is(installerKeySince(['os', 'externalStorageConfig', 'enabled']), '1.4');
  assert.is(installerKeySince(['os', 'externalStorageConfig', 'multiPathConfig', 'blacklistWwids']), '1.7');
  assert.is(installerKeySince(['system_settings', 'vm-migration-network']), '1.8');
  assert.is(installerKeySince(['install', 'webhooks', 0, 'url']), undefined);
  assert.is(installerKeySince(['install', 'no_such_key']), undefined);
});

test('installerSchemaFor returns one frozen copy per line and rejects unknown lines', () => {
  const s14 = installerSchemaFor('1.4');
  assert.is(installerSchemaFor('1.4'), s14);
  assert.ok(Object.isFrozen(s14));
  assert.is(s14.$id, 'https://harvgen.dev/schema/harvester-config-v1.4.schema.json');
  const install = (s14.properties as Config).install.properties as Config;
  assert.ok('wipedisks' in install && !('wipe_all_disks' in install));
  const install15 = (installerSchemaFor('1.5').properties as Config).install.properties as Config;
  assert.ok('wipe_all_disks' in install15 && !('wipedisks' in install15));
  for (const bad of ['1.1', '1.10', 'v1.4', '1.4.1', '']) assert.throws(() => installerSchemaFor(bad), /release line/, bad);
});

test('every property in the schema has a description and gates name a known release line', () => {
  const full = JSON.parse(readFileSync(new URL('../schema/harvester-config.schema.json', import.meta.url), 'utf8'));
  const missing: string[] = [];
  const badGates: string[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}/${i}`));
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Config;
    for (const k of ['x-since', 'x-until']) {
      if (k in obj && !SINCE_LINES.includes(obj[k])) badGates.push(`${where} ${k}=${obj[k]}`);
    }
    // allOf rules and the os password-or-keys alternatives are constraints, not key definitions.
    const constraint = /\/allOf(\/|$)/.test(where) || where.startsWith('#/properties/os/anyOf');
    if (typeof obj.properties === 'object' && !constraint) {
      for (const [name, sub] of Object.entries(obj.properties as Config)) {
        if (typeof (sub as Config).description !== 'string') missing.push(`${where}/properties/${name}`);
      }
    }
    for (const [k, v] of Object.entries(obj)) if (k !== 'enum' && k !== 'const') walk(v, `${where}/${k}`);
  };
  walk(full, '#');
  assert.equal(missing, []);
  assert.equal(badGates, []);
  assert.is(full.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.is(full.$id, 'https://harvgen.dev/schema/harvester-config.schema.json');
});

test.run();
