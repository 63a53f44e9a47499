// `system_settings.containerd-registry` as the installer decodes it: checkSystemSettings runs
// json.NewDecoder(...).Decode(&registries.Registry) (wharfie v0.6.5/v0.6.8 pkg/registries/types.go)
// on the create node's config only (commonCheck, create mode), from v1.3. A case table for the
// decoder and one for the rule's release and mode boundaries, each naming the source it follows.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check } from '../src/index.ts';
import { registryJsonProblem } from '../src/harvester/registry-json.ts';
import { tempDir } from './helpers/tmp.ts';

const GO = 'Go encoding/json Decoder.Decode into wharfie registries.Registry';

/** [value, refused?, what decides it]. */
const DECODE: [string, boolean, string][] = [
  ['{"mirrors":{"docker.io":{"endpoint":["https://m.example"]}}}', false, `${GO}: Mirror.Endpoints json:"endpoint" []string`],
  ['{"Mirrors":{"docker.io":{"Endpoint":["https://m"]}}}', false, `${GO}: field names match in any case`],
  ['{"mirrors":{"docker.io":{"endpoint":"https://m"}}}', true, `${GO}: a string into []string`],
  ['{"MIRRORS":5}', true, `${GO}: a number into a map, the name matched in any case`],
  ['{"configs":{"r":{"tls":{"insecure_skip_verify":"yes"}}}}', true, `${GO}: a string into TLSConfig.InsecureSkipVerify bool`],
  ['{"configs":{"r":{"auth":{"username":"u","password":"p"}}}}', false, `${GO}: RegistryConfig.Auth *AuthConfig`],
  ['{"unknown":[1,2]}', false, `${GO}: unknown fields are ignored`],
  ['{"mirrors":null}', false, `${GO}: null leaves a field zero`],
  ['null', false, `${GO}: null at the top`],
  ['{} trailing', false, `${GO}: the decoder reads the first value only`],
  ['', true, `${GO}: EOF`],
  ['{"mirrors": {', true, `${GO}: unexpected EOF`],
  ['[]', true, `${GO}: an array into a struct`],
  ['"x"', true, `${GO}: a string into a struct`],
];

for (const [value, refused, src] of DECODE) {
  test(`decode ${JSON.stringify(value)} (${src})`, () => {
    assert.is(registryJsonProblem(value) !== undefined, refused);
  });
}

const BAD = '{"mirrors":{"docker.io":{"endpoint":"https://m"}}}';
const HI = 'harvester/harvester-installer pkg/console/validator.go commonCheck, checkSystemSettings';
const H19 = 'harvester/harvester pkg/installer/console/validator.go commonCheck, checkSystemSettings @v1.9.0-rc6';

/** [title, release, node given the setting (c: create, j: join), errors expected, source]. */
const RULE: [string, string, 'c' | 'j', string[], string][] = [
  ['v1.2 has no decode', 'v1.2.2', 'c', [], `${HI} (absent) @v1.2.2`],
  ['v1.3 decodes it', 'v1.3.0', 'c', ['INSTALLER_SETTING_INVALID nodes[0].config.system_settings.containerd-registry'], `${HI} @v1.3.0`],
  ['v1.8 decodes it', 'v1.8.1', 'c', ['INSTALLER_SETTING_INVALID nodes[0].config.system_settings.containerd-registry'], `${HI} @v1.8.1`],
  ['v1.9 decodes it', 'v1.9.0', 'c', ['INSTALLER_SETTING_INVALID nodes[0].config.system_settings.containerd-registry'], H19],
  ['a joining node: not checked', 'v1.8.1', 'j', [], `${HI} (create mode only) @v1.8.1`],
];

process.env.SET_TOKEN = 'token.12345';
process.env.SET_PASSWORD = 'password.12345';

function site(v: string, on: 'c' | 'j'): string {
  const nodes = ['c', 'j'].map((h, i) => ({
    hostname: h,
    mac: `52:54:00:00:00:0${i + 1}`,
    ip: `10.0.0.${i + 11}`,
    ...(h === 'c' ? { role: 'create' } : {}),
    install: { device: '/dev/disk/by-id/os' },
    ...(h === on ? { config: { system_settings: { 'containerd-registry': BAD } } } : {}),
  }));
  const root = tempDir('installer-setting');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites', 'setting');
  mkdirSync(dir, { recursive: true });
  const doc = {
    site: 'setting',
    harvester: { version: v, artifacts: `http://10.0.0.1/artifacts/${v}` },
    boot: { server: 'http://10.0.0.1' },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: { env: 'SET_TOKEN' }, password: { env: 'SET_PASSWORD' } },
    nodes,
  };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

for (const [title, v, on, want, src] of RULE) {
  test(`${title} (${src})`, async () => {
    const r = await check({ sites: [site(v, on)] });
    const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path ?? ''}`);
    assert.equal(errors, want);
    if (want.length > 0) {
      assert.match(
        r.diagnostics.find((d) => d.code === want[0]?.split(' ')[0])?.message ?? '',
        'could not parse containerd-registry as JSON',
      );
    }
  });
}

test.run();
