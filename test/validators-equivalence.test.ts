// The validators compiled ahead of time (src/validate/compiled/, src/harvester/compiled/) must report exactly what ajv
// compiling the same schemas at run time reports, with the options harvgen used before they were
// generated: the same pass or fail, and deep-equal error lists, `schema`, `parentSchema` and `data`
// of every error included (diagnostics are built from them: `x-message`, `x-note`, positions).
// Inputs: the inventories of test/fixtures/check/, test/fixtures/layers/ and sites/, the installer
// configs built for their nodes (against every release line), and values wrong on purpose.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import siteSchema from '../schema/site.schema.json' with { type: 'json' };
import layerSchema from '../schema/layer.schema.json' with { type: 'json' };
import { writtenConfig } from '../src/derive/harvester/effective.ts';
import { installerSchemaFor } from '../src/harvester/installer-schema.ts';
import { SUPPORTED_RANGE } from '../src/harvester/versions.ts';
import { loadSite } from '../src/load/index.ts';
import { compileModel } from '../src/pipeline.ts';
import type { HarvesterNode, SiteModel } from '../src/model/types.ts';
import { layerValidator, siteValidator } from '../src/validate/compiled/index.ts';
import { INSTALLER_LINES, installerValidator } from '../src/harvester/compiled/index.ts';
import type { CompiledValidator } from '../src/util/compiled-validators.ts';

const repo = resolve(import.meta.dirname, '..');

// The reference: ajv compiling at run time, with the options and keywords src/validate/schema.ts
// and src/harvester/installer-schema.ts used before the validators were generated. Written out
// here, not imported from the generator, so that a changed option there shows as a difference.
const inventoryAjv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
inventoryAjv.addKeyword({ keyword: 'x-harvgen-value', schemaType: 'string' });
const reference = { site: inventoryAjv.compile(siteSchema), layer: inventoryAjv.compile(layerSchema) };
const installerAjv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
for (const keyword of ['x-since', 'x-until', 'x-note']) installerAjv.addKeyword({ keyword, schemaType: 'string' });
installerAjv.addKeyword({ keyword: 'x-message', schemaType: 'object' });
const referenceInstaller = new Map<string, ValidateFunction>();
function installerReference(minor: string): ValidateFunction {
  let v = referenceInstaller.get(minor);
  if (!v) referenceInstaller.set(minor, (v = installerAjv.compile(installerSchemaFor(minor))));
  return v;
}

function installer(minor: string): CompiledValidator {
  const v = installerValidator(minor);
  if (!v) throw new Error(`no compiled installer validator for ${minor}`);
  return v;
}

/** How many values were compared, and how many errors: a test that compared nothing says so. */
const seen = { values: 0, failed: 0, errors: 0, keywords: new Set<string>() };

/** Both validators on `data`: same result, same errors; returns the errors. */
function same(compiled: CompiledValidator, ref: ValidateFunction, data: unknown, what: string): NonNullable<CompiledValidator['errors']> {
  const ok = compiled(data);
  assert.is(ok, ref(data), `${what}: valid or not`);
  // Copies: the next call of either validator replaces its errors.
  const errors = [...(compiled.errors ?? [])];
  assert.equal(errors, [...(ref.errors ?? [])], `${what}: the errors`);
  seen.values++;
  if (!ok) seen.failed++;
  seen.errors += errors.length;
  for (const e of errors) seen.keywords.add(e.keyword);
  return errors;
}

/** Every site directory of the fixtures and of sites/. */
function siteDirs(): string[] {
  const check = join(repo, 'test/fixtures/check');
  const dirs = readdirSync(check).flatMap((rule) => ['bad', 'good'].map((kind) => join(check, rule, kind)));
  const layered = join(repo, 'test/fixtures/layers/sites');
  dirs.push(
    ...readdirSync(layered)
      .filter((d) => d.startsWith('lab_'))
      .map((d) => join(layered, d)),
  );
  dirs.push(...readdirSync(join(repo, 'sites')).map((d) => join(repo, 'sites', d)));
  return dirs;
}

/** The Harvester nodes of a model, with the one unknown machines install as. */
function harvesterNodes(model: SiteModel): HarvesterNode[] {
  const nodes = model.nodes.filter((n): n is HarvesterNode => n.boot === 'harvester');
  return model.unknownJoin ? [...nodes, model.unknownJoin] : nodes;
}

const configs: { what: string; minor: string; config: Record<string, unknown> }[] = [];

test('the inventories of the fixtures and of sites/: the same errors', async () => {
  let sites = 0;
  for (const dir of siteDirs()) {
    const loaded = await loadSite(dir, { cwd: repo });
    const what = dir.slice(repo.length + 1);
    if (loaded.input === undefined) continue;
    sites++;
    same(siteValidator(), reference.site, loaded.input, what);
    if (loaded.layers.repo) same(layerValidator(), reference.layer, loaded.layers.repo, `${what} (repo defaults)`);
    for (const [name, profile] of Object.entries(loaded.layers.profiles))
      same(layerValidator(), reference.layer, profile, `${what} (profile ${name})`);
    // The model the configs are built from (markers: the committed tree, no secret read); absent
    // when the site has an error before rendering.
    const model = (await compileModel(dir, { cwd: repo })).renderable?.model;
    if (!model) continue;
    for (const node of harvesterNodes(model)) {
      configs.push({
        what: `${what} ${node.hostname || '(unknown join)'}`,
        minor: node.release.minor,
        config: writtenConfig(model, node, 'markers'),
      });
    }
  }
  assert.ok(sites >= 200, `${sites} inventories loaded`);
  assert.ok(seen.failed >= 5, `${seen.failed} of ${seen.values} inventories fail the schema`);
  assert.ok(configs.length >= 100, `${configs.length} installer configs built`);
});

test('the installer configs built for them, against every release line: the same errors', () => {
  const before = { ...seen };
  for (const { what, minor, config } of configs) {
    for (const line of INSTALLER_LINES)
      same(installer(line), installerReference(line), config, `${what} as v${line} (its line: v${minor})`);
  }
  assert.is(seen.values - before.values, configs.length * INSTALLER_LINES.length);
  assert.ok(seen.failed > before.failed, 'a config of a newer line fails against an older one');
});

const SITE = {
  site: 'lab',
  harvester: { version: 'v1.4.1' },
  boot: { server: 'http://10.0.0.1', firmware: 'uefi' },
  network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.200' },
};

test('inventory values wrong on purpose: the same errors', () => {
  const cases: [string, unknown, string][] = [
    ['wrong type', { ...SITE, network: 'x' }, 'type'],
    ['unknown key', { ...SITE, sitee: 'lab' }, 'additionalProperties'],
    ['enum miss', { ...SITE, boot: { ...SITE.boot, firmware: 'efi' } }, 'enum'],
    ['pattern miss', { ...SITE, site: 'Bad Name' }, 'pattern'],
    ['missing key', { site: 'lab' }, 'required'],
    ['not a mapping', ['a list'], 'type'],
  ];
  for (const [what, value, keyword] of cases) {
    const errors = same(siteValidator(), reference.site, value, `site: ${what}`);
    assert.ok(
      errors.some((e) => e.keyword === keyword),
      `site: ${what} gives a ${keyword} error`,
    );
  }
  const layer = same(layerValidator(), reference.layer, { mtu: 'big', instal: {} }, 'layer');
  assert.equal([...new Set(layer.map((e) => e.keyword))].sort(), ['additionalProperties', 'type']);
});

test('installer values wrong on purpose, and keys of a newer line: the same errors', () => {
  const base = configs.find((c) => c.what.startsWith('sites/location_x'));
  assert.ok(base, 'a config of sites/location_x');
  const edit = (change: (c: Record<string, any>) => void): Record<string, unknown> => {
    const c = structuredClone(base.config) as Record<string, any>;
    change(c);
    return c;
  };
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['wrong type', edit((c) => (c.scheme_version = '1')), '1.4', 'type'],
    ['unknown key', edit((c) => (c.os.colour = 'blue')), '1.4', 'additionalProperties'],
    ['enum miss', edit((c) => (c.install.mode = 'upgrade')), '1.4', 'enum'],
    ['pattern miss', edit((c) => (c.token = 'Geheimnis-ä')), '1.4', 'pattern'],
    ['key of v1.5 on v1.4', edit((c) => (c.install.wipe_all_disks = true)), '1.4', 'additionalProperties'],
    ['key of v1.6 on v1.5', edit((c) => (c.sans = ['harvester.lab'])), '1.5', 'additionalProperties'],
    ['key of v1.8 on v1.7', edit((c) => (c.system_settings = { 'max-hotplug-ratio': '4' })), '1.7', 'additionalProperties'],
    ['key removed in v1.5 on v1.5', edit((c) => (c.install.wipedisks = true)), '1.5', 'additionalProperties'],
    [
      'alternative of v1.7 on v1.6 (x-note)',
      edit((c) => (c.os.externalStorageConfig = { enabled: true, multiPathConfig: { blacklist: [] } })),
      '1.6',
      'type',
    ],
  ];
  for (const [what, config, minor, keyword] of cases) {
    for (const line of INSTALLER_LINES) {
      const errors = same(installer(line), installerReference(line), config, `${what} as v${line}`);
      if (line === minor)
        assert.ok(
          errors.some((e) => e.keyword === keyword),
          `${what} gives a ${keyword} error on v${line}`,
        );
    }
  }
  // A pruned alternative leaves its note in the parent schema of the error: it must be there.
  const noted = same(installer('1.6'), installerReference('1.6'), cases[cases.length - 1]![1], 'x-note');
  assert.ok(
    noted.some((e) => typeof (e.parentSchema as Record<string, unknown> | undefined)?.['x-note'] === 'string'),
    'an error carries x-note',
  );
});

test('every release line was compared, and every kind of error', () => {
  assert.equal([...referenceInstaller.keys()].sort(), [...INSTALLER_LINES].sort());
  assert.is(INSTALLER_LINES[0], SUPPORTED_RANGE.oldest);
  assert.is(INSTALLER_LINES[INSTALLER_LINES.length - 1], SUPPORTED_RANGE.newest);
  for (const k of ['type', 'additionalProperties', 'enum', 'pattern', 'required'])
    assert.ok(seen.keywords.has(k), `a ${k} error was compared`);
  assert.ok(seen.errors >= 300, `${seen.errors} errors compared`);
});

test.run();
