// A `config:` key written the installer's way (its camelCase JSON name, the singular, or in
// another case) is refused with the one spelling harvgen takes, never as merely unknown. The
// installer's names are config.go's struct tags, camelCase (`json:"managementInterface"`); its
// FuzzyNames renamer (pkg/config/rename.go addName, ModifySchema) maps their lowercase, snake_case
// and singular forms onto them. Other cases (`Method`) are not among them: harvgen names the
// spelling all the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInstallerConfig } from '../src/harvester/installer-schema.ts';

const HI = 'harvester/harvester-installer pkg/config/config.go (json tags) + pkg/config/rename.go FuzzyNames.addName';
const H19 = 'harvester/harvester pkg/installer/config/config.go + rename.go FuzzyNames.addName @v1.9.0-rc6';

/** [title, release line, config fragment, path of the key, message expected (undefined: no issue for it)]. */
const CASES: [string, string, Record<string, unknown>, string, string | undefined, string][] = [
  [
    'install.managementInterface (camelCase)',
    '1.8',
    { install: { managementInterface: {} } },
    'install.managementInterface',
    'management_interface',
    `${HI} @v1.8.0`,
  ],
  ['systemSettings (camelCase, top level)', '1.2', { systemSettings: {} }, 'systemSettings', 'system_settings', `${HI} @v1.2.0`],
  [
    'os.sshAuthorizedKey (singular camelCase)',
    '1.5',
    { os: { sshAuthorizedKey: [] } },
    'os.sshAuthorizedKey',
    'ssh_authorized_keys',
    `${HI} @v1.5.0`,
  ],
  ['os.DNSNameservers (other case)', '1.9', { os: { DNSNameservers: [] } }, 'os.DNSNameservers', 'dns_nameservers', H19],
  [
    'install.management_interface.Method',
    '1.9',
    { install: { management_interface: { Method: 'dhcp' } } },
    'install.management_interface.Method',
    'method',
    H19,
  ],
  ['a key with no other spelling stays unknown', '1.8', { install: { colour: 1 } }, 'install.colour', undefined, `${HI} @v1.8.0`],
];

function merge(into: Record<string, any>, add: Record<string, any>): void {
  for (const [k, v] of Object.entries(add)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof into[k] === 'object') merge(into[k], v);
    else into[k] = v;
  }
}

const BASE = {
  scheme_version: 1,
  token: 'token.12345',
  os: { password: 'password.12345' },
  install: {
    mode: 'join',
    management_interface: { interfaces: [{ name: 'ens3' }], method: 'dhcp' },
    device: '/dev/vda',
    iso_url: 'http://10.0.0.1/h.iso',
  },
  server_url: 'https://10.0.0.10:443',
};

for (const [title, minor, fragment, path, spelling, src] of CASES) {
  test(`${title} (${src})`, () => {
    const config = structuredClone(BASE) as Record<string, any>;
    merge(config, fragment);
    const issue = validateInstallerConfig(minor, config).find((i) => [...i.path, i.key].join('.') === path);
    assert.ok(issue, `an issue at ${path}`);
    if (spelling === undefined) {
      assert.is(issue.message, `unknown key "${path.split('.').pop()}"`);
    } else {
      assert.is(issue.message, `key "${path.split('.').pop()}" is another spelling of "${spelling}"; harvgen takes only "${spelling}"`);
    }
  });
}

test.run();
