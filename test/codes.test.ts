// The diagnostic catalogue: every code is reported somewhere the tests look, and the
// diagnostic code reference (docs/reference/codes.md) documents every code.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODES } from '../src/index.ts';
import { RULES } from '../src/validate/index.ts';

const repo = resolve(import.meta.dirname, '..');
const fixtureCodes = new Set(
  readdirSync(join(repo, 'test/fixtures/check')).flatMap((c) => {
    const m = /^# ([A-Z0-9_]+):/.exec(readFileSync(join(repo, 'test/fixtures/check', c, 'bad/site.yaml'), 'utf8'));
    return m ? [m[1]!] : [];
  }),
);
// Codes whose failing case needs generated input or a crafted environment; each is
// asserted in the named test file instead of a fixture directory.
const TESTED_ELSEWHERE: Record<string, string> = {
  FACTS_READ_FAILED: 'cli-facts',
  DISCOVER_DIR_UNSAFE: 'discover-stub',
  DISCOVER_CAPPED: 'discover-stub',
  FAILOVER_SPLIT: 'status-failover',
  LOAD_SITE_DIR_NOT_FOUND: 'cli-bad-input',
  LOAD_SITE_YAML_MISSING: 'cli-bad-input',
  LOAD_FILE_TOO_LARGE: 'cli-bad-input',
  LOAD_BINARY_FILE: 'cli-bad-input',
  LOAD_INVALID_UTF8: 'cli-bad-input',
  LOAD_READ_FAILED: 'internals',
  LOAD_CHANGED_DURING_BUILD: 'held',
  LOAD_OUTSIDE_REPOSITORY: 'boundary',
  YAML_SYNTAX: 'cli-bad-input',
  YAML_DUPLICATE_KEY: 'cli-bad-input',
  YAML_TAB_INDENT: 'cli-bad-input',
  YAML_MULTI_DOCUMENT: 'cli-bad-input',
  YAML_EMPTY: 'cli-bad-input',
  YAML_ALIAS_LIMIT: 'cli-bad-input',
  YAML_NOT_A_MAP: 'cli-bad-input',
  YAML_TAG: 'cli-bad-input',
  YAML_TOO_MANY_KEYS: 'bounds',
  RENDER_PATH_ESCAPE: 'internals',
  RENDER_UNSAFE_VALUE: 'hostile',
  RENDER_CONFIG_TOO_LARGE: 'bounds',
  RENDER_SITE_CONFIGS_TOO_LARGE: 'bounds',
  NODE_PROFILE_UNKNOWN: 'layers',
  NODE_PROFILE_CYCLE: 'layers',
  NODE_PROFILE_CHAIN_TOO_LONG: 'bounds',
  SECRET_ENV_MISSING: 'secrets',
  SECRET_FILE_MISSING: 'secrets',
  SECRET_INLINE: 'secrets',
  SIGNING_KEY_INVALID: 'real/signing',
  SIGNING_FAILED: 'real/signing',
  VERIFY_SIGNATURE: 'real/signing',
  VERIFY_FLEET_RECORD: 'verify-fleet',
  REPORT_VERIFIED: 'report-fleet',
  VERIFY_FLEET_STATE: 'verify-fleet',
  VERIFY_FLEET_DRIFT: 'verify-fleet',
  VERIFY_FLEET_VERDICT: 'verify-fleet',
  PUBLISH_FAILED: 'publish',
  PUBLISH_DIRTY: 'publish',
  PUBLISH_STATE_NOT_SAVED: 'publish-fleet-state',
  PUBLISH_RELEASE_MISSING: 'real/fleet',
  PULL_REFUSED: 'pull',
  PULL_FAILED: 'pull',
  SITE_SERVER_CONFLICT: 'shared-server',
  SITE_SHARED_ARTIFACTS: 'shared-server',
  SITE_MAC_DUPLICATE: 'shared-server',
  SITE_DNSMASQ_CONFLICT: 'dnsmasq-shared',
  EMIT_WRITE_FAILED: 'build',
  EMIT_STALE: 'build',
  EMIT_DUPLICATE_SITE: 'build',
  EMIT_OUT_DIR_UNSAFE: 'emit',
  EMIT_SYMLINK_REFUSED: 'emit',
  EMIT_LOCKED: 'emit',
  EMIT_RECOVERED: 'emit',
  EMIT_INTERRUPTED: 'emit',
  EMIT_UNTRUSTED_PATH: 'emit',
  EMIT_JOURNAL_DISCARDED: 'state-forgery',
  CLI_USAGE: 'cli',
  INTERNAL_ERROR: 'internals',
  VERIFY_DRIFT: 'verify',
  STATUS_LOG_UNREADABLE: 'cli-status',
  STATUS_LOCKED: 'status-fleet',
  STATUS_BMC_LOG_UNREADABLE: 'status-bmc-log',
  VERIFY_EXPOSED: 'verify',
  VERIFY_UNREACHABLE: 'verify',
  VERIFY_NO_DEPLOY_TREE: 'verify',
  VERIFY_STALE_CONFIG: 'pull-config',
  VERIFY_CONFIG_SILENT: 'pull-config',
  // Needs a key file of a given mode, which a committed check fixture cannot carry (git keeps 0644).
  SECRET_KEY_UNPROTECTED: 'key-mode',
  SECRET_KEY_READABLE: 'key-mode',
  VERIFY_RELEASE_FILE: 'pull',
};

test('every code has a failing fixture or a named test', () => {
  const missing = Object.keys(CODES).filter((c) => !fixtureCodes.has(c) && !(c in TESTED_ELSEWHERE));
  assert.equal(missing, []);
});

test('every code a rule declares is in the catalogue, and every rule code has a fixture', () => {
  for (const rule of RULES) {
    for (const code of rule.codes) {
      assert.ok(code in CODES, `${rule.name}: ${code}`);
      assert.ok(fixtureCodes.has(code), `${rule.name}: no failing fixture for ${code}`);
    }
  }
});

test('every code named as tested elsewhere appears in that test file', () => {
  for (const [code, file] of Object.entries(TESTED_ELSEWHERE)) {
    assert.ok(readFileSync(join(repo, 'test', `${file}.test.ts`), 'utf8').includes(code), `${code} not in test/${file}.test.ts`);
  }
});

test('the diagnostic code reference documents every code', () => {
  const page = readFileSync(join(repo, 'docs/reference/codes.md'), 'utf8');
  const missing = Object.keys(CODES).filter((c) => !page.includes(`| \`${c}\` |`));
  assert.equal(missing, []);
});

test.run();
