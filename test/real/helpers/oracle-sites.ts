/**
 * The sites of the repository's fixtures and examples, compiled as a deploy build (secrets filled
 * in: the committed tree's markers are no token), with what each Harvester node's installer is
 * given (installerInput), for the installer-oracle tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './initramfs.ts';
import { installerInput, type InstallerInput } from './installer-oracle.ts';
import { exampleWithSecrets } from '../../helpers/example.ts';
import { compileSite } from '../../../src/pipeline.ts';
import type { Diagnostic } from '../../../src/diagnostics/types.ts';
import type { HarvesterNode } from '../../../src/model/index.ts';
import { configPath } from '../../../src/derive/harvester/cmdline.ts';

/** A site directory under test and how it is named in reports. */
export interface OracleSite {
  label: string;
  dir: string;
}

/** One compiled site: its diagnostics, and each Harvester node's installer input (those an oracle judges). */
export interface CompiledForOracle {
  site: OracleSite;
  diagnostics: readonly Diagnostic[];
  errors: readonly Diagnostic[];
  /** False when the inventory did not get as far as a model (schema errors and the like). */
  modelled: boolean;
  /** `written`: the node's config file in the rendered tree, when the site rendered. */
  nodes: { hostname: string; index: number; version: string; input: InstallerInput; written?: string }[];
  /** Harvester nodes of releases no oracle judges (v1.2, v1.3). */
  unjudged: string[];
}

const sub = (dir: string) =>
  readdirSync(path.join(REPO_ROOT, dir))
    .sort()
    .map((n) => path.join(REPO_ROOT, dir, n));

/** Every site of the golden build fixtures, the real-program fixtures, the layered sites and the examples. */
export function goldenSites(): OracleSite[] {
  const out: OracleSite[] = [];
  for (const d of sub('test/fixtures/build')) {
    if (existsSync(path.join(d, 'site'))) out.push({ label: `build/${path.basename(d)}`, dir: path.join(d, 'site') });
  }
  for (const d of sub('test/fixtures/layers/sites')) {
    if (!path.basename(d).startsWith('_')) out.push({ label: `layers/${path.basename(d)}`, dir: d });
  }
  for (const d of sub('test/fixtures/real')) {
    if (existsSync(path.join(d, 'site.yaml'))) out.push({ label: `real/${path.basename(d)}`, dir: d });
  }
  for (const name of ['location_x', 'location_y']) out.push({ label: `sites/${name}`, dir: exampleWithSecrets(name) });
  return out;
}

/** Every check fixture's two sides (`test/fixtures/check/<name>/good`, `bad`). */
export function checkSites(): OracleSite[] {
  return sub('test/fixtures/check').flatMap((d) =>
    ['good', 'bad']
      .filter((s) => existsSync(path.join(d, s)))
      .map((s) => ({ label: `check/${path.basename(d)}/${s}`, dir: path.join(d, s) })),
  );
}

/** A value for every `{ env: NAME }` secret the site's files name (what a deploy machine sets). */
function secretEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name))
        for (const m of readFileSync(p, 'utf8').matchAll(/\benv:\s*([A-Z_][A-Z0-9_]*)/g)) env[m[1]!] = 'Oracle.Secret.123';
    }
  };
  walk(dir);
  return env;
}

/** Compile a site as a deploy build and derive each Harvester node's installer input. */
export async function compileForOracle(site: OracleSite): Promise<CompiledForOracle> {
  const siteFile = path.join(site.dir, 'site.yaml');
  const input = existsSync(siteFile) ? ((parse(readFileSync(siteFile, 'utf8')) ?? {}) as { lab?: unknown }) : {};
  const m = await compileSite(site.dir, { secrets: 'filled', env: { ...process.env, ...secretEnv(site.dir) }, cwd: site.dir });
  const errors = m.diagnostics.filter((d) => d.severity === 'error');
  const nodes: CompiledForOracle['nodes'] = [];
  const unjudged: string[] = [];
  const model = m.model;
  if (model) {
    for (const n of model.nodes) {
      if (n.boot !== 'harvester') continue;
      const node = n as HarvesterNode;
      const i = installerInput(input as { lab?: undefined }, model, node);
      if (i === undefined) unjudged.push(`${node.hostname} (${node.release.version.raw})`);
      else {
        const file = m.artifacts?.find((a) => a.path === configPath(model, node));
        const written =
          file === undefined ? undefined : typeof file.contents === 'string' ? file.contents : Buffer.from(file.contents).toString('utf8');
        nodes.push({
          hostname: node.hostname,
          index: node.index,
          version: node.release.version.raw,
          input: i,
          ...(written !== undefined ? { written } : {}),
        });
      }
    }
  }
  return { site, diagnostics: m.diagnostics, errors, modelled: m.model !== undefined, nodes, unjudged };
}
