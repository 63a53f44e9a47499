/**
 * Runs the installer corpus (installer-corpus.ts): for each release and mutation, harvgen's verdict
 * (`compileSite` as a deploy build: any error refuses) and the installer's (its own code, through
 * the oracle of the release), on the mutation's target node.
 *
 * What the installer judges: where harvgen accepts, the config and kernel line harvgen derives for
 * the node (what it writes); where harvgen refuses, the base site's config of that node with the
 * mutation's value put at its key (`cfg`), so the installer is asked about the value as written.
 * Identical inputs are judged once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from '../../helpers/tmp.ts';
import { compileSite } from '../../../src/pipeline.ts';
import type { HarvesterNode, SiteModel } from '../../../src/model/index.ts';
import { buildHarvesterConfig, renderHarvesterConfig } from '../../../src/derive/harvester/config.ts';
import { baseSite, mutations, setKey, type Mutation } from './installer-corpus.ts';
import { acceptedWhole, installerInput, judgeAll, refusal, type InstallerInput, type OracleVerdict } from './installer-oracle.ts';

type Doc = Record<string, unknown>;

/** One mutation at one release. */
export interface CorpusOutcome {
  release: string;
  id: string;
  family: string;
  /** `codes`: its errors; `warned`: its warnings. */
  harvgen: { accepted: boolean; codes: string[]; warned: string[]; first?: string };
  installer: { accepted: boolean; refusal: string; warnings: string[]; judged: 'harvgen-output' | 'value-as-written' };
  /** The config the installer judged (for a report). */
  config: string;
  /**
   * Where harvgen accepts but writes the value otherwise than given (a boolean read from text:
   * INSTALLER_VALUE_READ_AS), the installer's verdict on the value as written too: it must match.
   */
  asWritten?: { accepted: boolean; refusal: string };
}

let seq = 0;
const work = tempDir('installer-corpus');

async function compileDoc(doc: Doc) {
  const dir = path.join(work, `site-${++seq}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
  return compileSite(dir, { secrets: 'filled', cwd: dir });
}

const targetNode = (model: SiteModel, index: number) =>
  model.nodes.find((n) => n.index === index && n.boot === 'harvester') as HarvesterNode | undefined;

/** Run the corpus (or the mutations `pick` keeps) at each of `releases`. */
export async function runCorpus(releases: readonly string[], pick: (m: Mutation) => boolean = () => true): Promise<CorpusOutcome[]> {
  const chosen = mutations().filter(pick);
  const out: CorpusOutcome[] = [];
  for (const release of releases) {
    const base = baseSite(release);
    const compiled = await compileDoc(base);
    const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0 || !compiled.model) throw new Error(`the corpus base site at ${release} is refused: ${JSON.stringify(errors)}`);
    const baseModel = compiled.model;
    const baseNodes = [0, 1].map((k) => targetNode(baseModel, k)!);
    const baseInputs = baseNodes.map((n) => installerInput({}, baseModel, n)!);
    const pending: {
      partial: Omit<CorpusOutcome, 'installer' | 'config'>;
      input: InstallerInput;
      judged: CorpusOutcome['installer']['judged'];
      asWritten?: InstallerInput;
    }[] = [];
    /** The base site's config of the target node with the mutation's value put in as written. */
    const asWrittenInput = (m: Mutation, k: number): InstallerInput => {
      const cfg = structuredClone(buildHarvesterConfig(baseModel, baseNodes[k]!, 'filled'));
      for (const [key, value] of [...(m.cfg ? [m.cfg] : []), ...(m.cfgMore ?? [])]) setKey(cfg, key, value);
      const base = baseInputs[k]!;
      return {
        ...base,
        machine: { ...base.machine, ...m.machine },
        config: renderHarvesterConfig(baseModel, baseNodes[k]!, cfg, 'filled'),
      };
    };
    for (const m of chosen) {
      const doc = structuredClone(base);
      m.inv(doc);
      const c = await compileDoc(doc);
      const errs = c.diagnostics.filter((d) => d.severity === 'error');
      const k = m.target === 'n1' ? 0 : 1;
      const harvgen = {
        accepted: errs.length === 0,
        codes: [...new Set(errs.map((d) => d.code))].sort(),
        warned: [...new Set(c.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code))].sort(),
        ...(errs[0] ? { first: `${errs[0].code}: ${errs[0].message}` } : {}),
      };
      let input: InstallerInput | undefined;
      let judged: CorpusOutcome['installer']['judged'] = 'harvgen-output';
      let asWritten: InstallerInput | undefined;
      if (harvgen.accepted) {
        const node = c.model ? targetNode(c.model, k) : undefined;
        input = node ? installerInput({}, c.model!, node) : undefined;
        if (input === undefined) throw new Error(`corpus ${release} ${m.id}: accepted, but no node ${m.target} to judge`);
        // A value harvgen writes otherwise than given (a boolean read from text) is judged as given too.
        if (m.cfg && harvgen.warned.includes('INSTALLER_VALUE_READ_AS')) asWritten = asWrittenInput(m, k);
      } else {
        input = asWrittenInput(m, k);
        judged = 'value-as-written';
      }
      pending.push({ partial: { release, id: m.id, family: m.family, harvgen }, input, judged, ...(asWritten ? { asWritten } : {}) });
    }
    // Judge each distinct input once.
    const keyOf = (i: InstallerInput) => JSON.stringify([i.tag, i.config, i.cmdline, i.machine]);
    const distinct = new Map<string, InstallerInput>();
    for (const p of pending) for (const i of [p.input, ...(p.asWritten ? [p.asWritten] : [])]) distinct.set(keyOf(i), i);
    const keys = [...distinct.keys()];
    const verdicts = await judgeAll(keys.map((k) => distinct.get(k)!));
    const byKey = new Map<string, OracleVerdict>(keys.map((k, i) => [k, verdicts[i]!]));
    for (const p of pending) {
      const v = byKey.get(keyOf(p.input))!;
      const w = p.asWritten ? byKey.get(keyOf(p.asWritten))! : undefined;
      out.push({
        ...p.partial,
        installer: { accepted: acceptedWhole(v), refusal: refusal(v), warnings: v.warnings, judged: p.judged },
        config: p.input.config,
        ...(w ? { asWritten: { accepted: acceptedWhole(w), refusal: refusal(w) } } : {}),
      });
    }
  }
  return out;
}

/** A silent pass: harvgen accepts, the installer refuses. */
export const silentPass = (o: CorpusOutcome) => o.harvgen.accepted && !o.installer.accepted;
/** Over-strict: harvgen refuses, the installer accepts. */
export const overStrict = (o: CorpusOutcome) => !o.harvgen.accepted && o.installer.accepted;

/** One outcome, said for a failure message: the mutation, both verdicts, and the config's lines that hold the value. */
export function describeOutcome(o: CorpusOutcome): string {
  const key = (o.id.split(' ')[0] ?? '').split('.').pop() ?? '';
  const lines = o.config.split('\n').filter((l) => key !== '' && l.trimStart().startsWith(`${key}:`));
  return [
    `${o.release} ${o.id}`,
    `  harvgen: ${o.harvgen.accepted ? 'accepts' : `refuses (${o.harvgen.first ?? o.harvgen.codes.join(', ')})`}`,
    `  installer (${o.installer.judged}): ${o.installer.accepted ? 'accepts' : `refuses: ${o.installer.refusal}`}`,
    ...lines.map((l) => `  config: ${l.trim()}`),
  ].join('\n');
}
