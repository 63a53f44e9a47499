// `harvgen report`: the sites (and, given, the boot servers' access logs and the fleet record) as
// a static HTML tree: an index of the sites, a few pages per site (nodes table, states from
// status, explain's main settings, a picture, a print view). Pure up to `writeReport`: the same
// inputs and `generatedAt` give the same bytes. Sites are compiled as for the committed tree
// (secrets as markers, never read), so no secret and no keyed name can reach a page.
import { resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { hasFailures } from '../diagnostics/types.ts';
import { UnsafeValueError } from '../formats/escape.ts';
import { compileModel, type CompiledSite } from '../pipeline.ts';
import type { SiteModel } from '../model/index.ts';
import type { NodeStatus } from '../status/types.ts';
import { fleetPages, fleetRows, fleetSummary, fleetTable, readFleet, type FleetRow } from './fleet.ts';
import { indexPages, type IndexSite } from './index-page.ts';
import { countRows, nodeRow } from './rows.ts';
import { sitePages } from './site-page.ts';
import type { PageFile } from './types.ts';
import { readVerified } from './verified.ts';

export type { PageFile } from './types.ts';
export { writeReport } from './write.ts';

/** Nodes on one page of a site's table, by default. */
export const NODES_PER_PAGE = 100;

export interface ReportOptions {
  readonly sites: readonly string[];
  /** nginx access logs of the boot servers (status reads them); none: states unknown. */
  readonly logs?: readonly string[];
  /** The fleet record directory (`harvgen publish --record`). */
  readonly fleet?: string;
  /** A saved `harvgen verify --fleet <dir> --json`: what each boot server serves (with `fleet`). */
  readonly verified?: string;
  /** The time the footer shows (ISO 8601): fixed, the pages are reproducible. */
  readonly generatedAt: string;
  readonly perPage?: number;
  readonly cwd?: string;
}

export interface ReportResult {
  readonly ok: boolean;
  /** The pages: empty when `ok` is false (nothing is to be written). */
  readonly files: readonly PageFile[];
  /** Each site given: its name and nodes when it compiled, and its own diagnostics. */
  readonly sites: readonly {
    readonly dir: string;
    readonly site?: string;
    readonly nodes: number;
    readonly diagnostics: readonly Diagnostic[];
  }[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Each node's status by site and hostname, from the logs (none: an empty map); status's own findings go to `diagnostics`. */
async function statuses(options: ReportOptions, diagnostics: Diagnostic[]): Promise<Map<string, NodeStatus>> {
  const byNode = new Map<string, NodeStatus>();
  if (!options.logs || options.logs.length === 0) return byNode;
  const { status } = await import('../status/index.ts');
  // Status knows no working directory of its own: the sites as the report found them.
  const cwd = resolve(options.cwd ?? '.');
  const result = await status({ sites: options.sites.map((d) => resolve(cwd, d)), logs: options.logs });
  // The sites' own diagnostics come from the compile below; the logs' are status's own.
  const ofSites = new Set(result.sites.flatMap((s) => s.diagnostics));
  diagnostics.push(...result.diagnostics.filter((d) => !ofSites.has(d)));
  for (const n of result.nodes) byNode.set(`${n.site}\u0000${n.hostname}`, n);
  return byNode;
}

/** The fleet's rows (`--fleet`, with `--verified`), or undefined without a fleet record. */
function fleetOf(options: ReportOptions, diagnostics: Diagnostic[]): FleetRow[] | undefined {
  if (options.fleet === undefined) {
    if (options.verified !== undefined)
      diagnostics.push({
        code: 'REPORT_VERIFIED',
        severity: 'error',
        message: '--verified needs --fleet: verify results are shown beside the fleet record they were checked against',
        hint: 'give the fleet record directory too (--fleet published/)',
      });
    return undefined;
  }
  const records = readFleet(options.fleet);
  diagnostics.push(...records.diagnostics);
  let verified;
  if (options.verified !== undefined) {
    const read = readVerified(options.verified);
    if ('diagnostic' in read) diagnostics.push(read.diagnostic);
    else verified = read;
  }
  const rows = fleetRows(records.records, verified);
  diagnostics.push(...rows.diagnostics);
  return rows.rows;
}

/** Compile every site (committed-tree mode); a site with an error stops the report. */
async function compileAll(
  options: ReportOptions,
  diagnostics: Diagnostic[],
): Promise<{ dir: string; compiled: CompiledSite; model?: SiteModel }[]> {
  const out: { dir: string; compiled: CompiledSite; model?: SiteModel }[] = [];
  const seen = new Map<string, string>();
  for (const dir of options.sites) {
    const compiled = (await compileModel(dir, {
      secrets: 'markers',
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    })) as CompiledSite;
    diagnostics.push(...compiled.diagnostics);
    const model = compiled.model;
    if (model && seen.has(model.site))
      diagnostics.push({
        code: 'EMIT_DUPLICATE_SITE',
        severity: 'error',
        message: `${dir} and ${seen.get(model.site)!} both declare the site ${model.site}`,
        hint: 'give each site once',
      });
    if (model) seen.set(model.site, dir);
    out.push({ dir, compiled, ...(model ? { model } : {}) });
  }
  return out;
}

/** Every page, from the compiled sites, the nodes' statuses and the fleet's rows. May throw UnsafeValueError (a bug). */
function pagesOf(
  options: ReportOptions,
  compiled: readonly { dir: string; compiled: CompiledSite; model?: SiteModel }[],
  logged: { readonly byNode: ReadonlyMap<string, NodeStatus>; readonly findings: readonly string[] },
  fleet: readonly FleetRow[] | undefined,
): PageFile[] {
  const { byNode, findings } = logged;
  const logs = (options.logs?.length ?? 0) > 0;
  const files: PageFile[] = [];
  const index: IndexSite[] = [];
  const cwd = resolve(options.cwd ?? '.');
  const fleetOfSite = new Map((fleet ?? []).map((r) => [r.record.site, r] as const));
  for (const c of compiled) {
    const model = c.model!;
    const rows = model.nodes.map((n) => nodeRow(model, n, byNode.get(`${model.site}\u0000${n.hostname}`), logs));
    const published = fleetOfSite.get(model.site);
    files.push(
      ...sitePages({
        compiled: c.compiled,
        files: { siteDir: resolve(cwd, c.dir), cwd },
        model,
        rows,
        logs,
        generatedAt: options.generatedAt,
        perPage: options.perPage ?? NODES_PER_PAGE,
        ...(published ? { published: fleetTable([published], () => undefined, 'published') } : {}),
      }),
    );
    index.push({
      site: model.site,
      ...(model.description !== undefined ? { description: model.description } : {}),
      counts: countRows(rows),
    });
  }
  index.sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0));
  const verified = options.verified !== undefined;
  const fleetPart = fleet ? fleetSummary(fleet, verified) : undefined;
  files.push(...indexPages({ sites: index, logs, findings, generatedAt: options.generatedAt, ...(fleetPart ? { fleet: fleetPart } : {}) }));
  if (fleet)
    files.push(...fleetPages({ rows: fleet, verified, sites: new Set(index.map((s) => s.site)), generatedAt: options.generatedAt }));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The report of the sites, in memory. Never throws for bad input: see `diagnostics`. */
export async function report(options: ReportOptions): Promise<ReportResult> {
  const diagnostics: Diagnostic[] = [];
  const compiled = await compileAll(options, diagnostics);
  const fleet = fleetOf(options, diagnostics);
  const before = diagnostics.length;
  const byNode = hasFailures(diagnostics) ? new Map<string, NodeStatus>() : await statuses(options, diagnostics);
  const findings = diagnostics.slice(before).map((d) => d.message);
  const sites = compiled.map((c) => ({
    dir: c.dir,
    ...(c.model ? { site: c.model.site } : {}),
    nodes: c.model?.nodes.length ?? 0,
    diagnostics: c.compiled.diagnostics,
  }));
  if (hasFailures(diagnostics) || compiled.some((c) => !c.model)) return { ok: false, files: [], sites, diagnostics };
  try {
    return { ok: true, files: pagesOf(options, compiled, { byNode, findings }, fleet), sites, diagnostics };
  } catch (e) {
    if (!(e instanceof UnsafeValueError)) throw e;
    diagnostics.push({
      code: 'RENDER_UNSAFE_VALUE',
      severity: 'error',
      message: `the report: ${e.message}`,
      hint: 'this is a bug of harvgen report: please report it',
    });
    return { ok: false, files: [], sites, diagnostics };
  }
}
