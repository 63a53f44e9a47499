// `harvgen facts`: measure machines and write what was measured beside their nodes,
// `<site>/facts/<hostname>.yaml` (src/facts/file.ts), through the durable layer's atomic write.
// From each node's BMC over Redfish (./redfish.ts; `bmc:` of the inventory, credentials from the
// environment variables it names, never written anywhere), or from a dump taken on the machine
// (./dump.ts). A file whose facts are unchanged is left as it is (its `measured.at` too), so a
// measurement repeated on an unchanged machine changes nothing in git.
import { lstatSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Diagnostic } from '../diagnostics/types.ts';
import { DurableError, writeFileAtomic } from '../durable/index.ts';
import { factsDocument, factsFromDocument, factsText, sameFacts } from '../facts/file.ts';
import { reportedText } from '../facts/text.ts';
import type { MeasuredFacts } from '../facts/types.ts';
import { readBounded } from '../load/files.ts';
import { resolveBmc, type ResolvedBmc, type SiteModel } from '../model/index.ts';
import { MAX_FILE_BYTES } from '../load/read-text.ts';
import { isValueOfKind } from '../util/value-kinds.ts';
import { compileModel } from '../pipeline.ts';
import { factsValidator } from '../validate/compiled/index.ts';
import { DumpError, MAX_DUMP_BYTES, parseDump } from './dump.ts';
import { RedfishError } from './http.ts';
import { readRedfish } from './redfish.ts';
import { HOSTNAME } from '../util/hostname.ts';

export { COLLECTOR_SCRIPT } from './dump.ts';

/** What to measure. */
export interface FactsOptions {
  /** The site directory. */
  readonly site: string;
  /** Hostnames to measure (default: every node with a Redfish BMC; with `dump`, exactly one). */
  readonly nodes?: readonly string[];
  /** A dump file (`harvgen facts --script`'s output) of the one node named. */
  readonly dump?: string;
  /** A machine the inventory does not have yet: its BMC address (`host[:port]`), its facts file named `as`. */
  readonly bmc?: { readonly address: string; readonly as: string; readonly insecure?: boolean; readonly system?: string };
  /** Measure and report, write nothing. */
  readonly dryRun?: boolean;
  /** Environment the BMC credentials are read from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Time limit of each machine's walk (default 120 s). */
  readonly timeoutMs?: number;
  /** The clock (tests). */
  readonly now?: () => Date;
  readonly cwd?: string;
}

/** What happened to one machine. */
export interface MachineFacts {
  readonly hostname: string;
  /** The facts file, as shown. */
  readonly file: string;
  /** `written`: new or changed; `unchanged`: the same facts as the file holds; `measured`: a dry run. */
  readonly status: 'written' | 'unchanged' | 'measured' | 'failed';
  readonly facts?: MeasuredFacts;
  readonly diagnostics: readonly Diagnostic[];
}

export interface FactsResult {
  readonly machines: readonly MachineFacts[];
  /** About the run (the site could not be read, a node named is unknown). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Measure the machines asked for and write their facts files. Never throws for bad input. */
export async function measureFacts(o: FactsOptions): Promise<FactsResult> {
  const cwd = o.cwd ?? process.cwd();
  const siteDir = resolve(cwd, o.site);
  const show = (p: string) => (p.startsWith(cwd + '/') ? p.slice(cwd.length + 1) : p);
  const model = await siteModel(siteDir, cwd);
  if ('diagnostics' in model) return { machines: [], diagnostics: model.diagnostics };
  const plan = planMachines(model.model, o);
  if ('diagnostics' in plan) return { machines: [], diagnostics: plan.diagnostics };
  const machines: MachineFacts[] = [];
  for (const m of plan.machines) {
    const file = join(siteDir, 'facts', `${m.hostname}.yaml`);
    machines.push(await measureOne(m, file, show(file), o));
  }
  return { machines, diagnostics: [] };
}

/** One machine to measure: a node's BMC, or a dump. */
type Machine = { readonly hostname: string } & ({ readonly bmc: ResolvedBmc } | { readonly dump: string });

/** The site's model, whatever its rules found (a node that fails them is what to measure); without its facts files, which this run replaces. */
async function siteModel(siteDir: string, cwd: string): Promise<{ model: SiteModel } | { diagnostics: readonly Diagnostic[] }> {
  const compiled = await compileModel(siteDir, { cwd, measured: false });
  return compiled.model ? { model: compiled.model } : { diagnostics: compiled.diagnostics.filter((d) => d.severity === 'error') };
}

function planMachines(model: SiteModel, o: FactsOptions): { machines: Machine[] } | { diagnostics: Diagnostic[] } {
  const usage = (message: string, hint: string): { diagnostics: Diagnostic[] } => ({
    diagnostics: [{ code: 'CLI_USAGE', severity: 'error', message, hint }],
  });
  if (o.bmc) {
    if (!HOSTNAME.test(o.bmc.as))
      return usage(
        `--as ${JSON.stringify(o.bmc.as)} is not a hostname`,
        'Name the machine as its node will be named: lowercase letters, digits and hyphens.',
      );
    // As the inventory's `bmc.address` is checked (its value kind) and resolved.
    const bmc = isValueOfKind('bmcAddress', o.bmc.address)
      ? resolveBmc({ address: o.bmc.address, insecure: o.bmc.insecure ?? false })
      : undefined;
    if (!bmc)
      return usage(
        `--bmc ${JSON.stringify(o.bmc.address)} is not a BMC address`,
        'Give a host name, an IPv4 address or a bracketed IPv6 address, with an optional :port.',
      );
    if (o.bmc.system !== undefined && !isValueOfKind('redfishSystem', o.bmc.system))
      return usage(
        `--system ${JSON.stringify(o.bmc.system)} is not a Redfish system`,
        "Give the path of one of the BMC's systems, as `/redfish/v1/Systems` lists them: `/redfish/v1/Systems/<id>`.",
      );
    return { machines: [{ hostname: o.bmc.as, bmc: o.bmc.system !== undefined ? { ...bmc, system: o.bmc.system } : bmc }] };
  }
  const byName = new Map(model.nodes.map((n) => [n.hostname, n]));
  for (const h of o.nodes ?? []) {
    if (!byName.has(h))
      return usage(
        `site ${model.site} has no node ${h}`,
        `Name one of its nodes (${[...byName.keys()].slice(0, 10).join(', ')}), or measure a new machine with --bmc <address> --as <hostname>.`,
      );
  }
  if (o.dump !== undefined) {
    if (o.nodes?.length !== 1)
      return usage(
        '--dump needs exactly one --node: the node the dump was taken on',
        'harvgen facts <site> --node <hostname> --dump <file>',
      );
    return { machines: [{ hostname: o.nodes[0]!, dump: o.dump }] };
  }
  const wanted = o.nodes?.length ? o.nodes.map((h) => byName.get(h)!) : model.nodes.filter((n) => n.bmc?.type === 'redfish');
  const machines: Machine[] = [];
  for (const n of wanted) {
    if (n.bmc?.type !== 'redfish') {
      return usage(
        `node ${n.hostname} has no Redfish BMC (\`bmc:\` with an address, type redfish)`,
        'Give it `bmc:` in the inventory, or take a dump on the machine (`harvgen facts --script`) and import it with --dump.',
      );
    }
    machines.push({ hostname: n.hostname, bmc: n.bmc });
  }
  if (machines.length === 0)
    return usage(
      `no node of site ${model.site} has a Redfish BMC`,
      'Give the nodes `bmc:` (docs/day-2.md, "BMC scripts"), or import a dump with --node and --dump.',
    );
  return { machines };
}

async function measureOne(m: Machine, file: string, shown: string, o: FactsOptions): Promise<MachineFacts> {
  const failed = (message: string, hint: string): MachineFacts => ({
    hostname: m.hostname,
    file: shown,
    status: 'failed',
    diagnostics: [{ code: 'FACTS_READ_FAILED', severity: 'error', message, hint, file: shown }],
  });
  const at = (o.now ?? (() => new Date()))()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  let facts: MeasuredFacts;
  if ('dump' in m) {
    const read = readBounded(resolve(o.cwd ?? process.cwd(), m.dump), MAX_DUMP_BYTES);
    if ('problem' in read)
      return failed(
        `dump ${m.dump} ${read.problem}`,
        'Give the file the collector script printed (`harvgen facts --script`), at most 4 MiB.',
      );
    try {
      facts = {
        measured: { source: 'dump', from: reportedText(basename(m.dump)) ?? 'dump', at },
        ...parseDump(read.bytes.toString('utf8')),
      };
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
      return failed(
        `dump ${m.dump}: ${e.message}`,
        'Run the collector script on the machine as root and import what it printed, unchanged.',
      );
    }
  } else {
    const env = o.env ?? process.env;
    const user = env[m.bmc.userEnv];
    const password = env[m.bmc.passwordEnv];
    if (!user || password === undefined) {
      return failed(
        `the credentials of ${m.hostname}'s BMC are not set`,
        `Export ${m.bmc.userEnv} and ${m.bmc.passwordEnv} (the variables its \`bmc:\` names) before running harvgen facts.`,
      );
    }
    const host = m.bmc.host.includes(':') ? `[${m.bmc.host}]` : m.bmc.host;
    try {
      const r = await readRedfish(
        { origin: `https://${host}:${m.bmc.port}`, ...(m.bmc.system !== undefined ? { system: m.bmc.system } : {}) },
        { user, password, insecure: m.bmc.insecure, signal: AbortSignal.timeout(o.timeoutMs ?? 120_000) },
      );
      const { from, ...rest } = r;
      facts = { measured: { source: 'redfish', from: reportedText(from) ?? 'redfish', at }, ...rest };
    } catch (e) {
      if (!(e instanceof RedfishError)) throw e;
      return failed(
        `${m.hostname}'s BMC (${m.bmc.address}): ${e.url.slice(0, 200)}: ${e.message}`,
        e.status === 401 || e.status === 403
          ? `Check ${m.bmc.userEnv} and ${m.bmc.passwordEnv}.`
          : `Check that the BMC answers Redfish at https://${host}:${m.bmc.port}/redfish/v1/ (${o.bmc ? '--insecure for a self-signed certificate, --system when it has several systems' : '\`bmc.insecure: true\` for a self-signed certificate, \`bmc.system\` when it has several systems'}).`,
      );
    }
  }
  return keepOrWrite(m.hostname, file, shown, facts, o.dryRun === true);
}

/** Write the facts unless the file holds the same (then it is left, its time of measurement too). */
function keepOrWrite(hostname: string, file: string, shown: string, facts: MeasuredFacts, dryRun: boolean): MachineFacts {
  // What the machine reported must fit a facts file (a BMC may report 0 CPUs or 10^400 bytes): else check would refuse the file written.
  const validate = factsValidator();
  if (!validate(factsDocument(facts))) {
    const e = validate.errors?.[0];
    const message = `${hostname}'s machine reported what a facts file cannot hold (${e?.instancePath || '/'} ${e?.message ?? ''}): nothing was written`;
    const hint =
      "Check the value on the machine or its BMC; a dump taken on the machine (`harvgen facts --script`) reads the kernel's own view.";
    return {
      hostname,
      file: shown,
      status: 'failed',
      facts,
      diagnostics: [{ code: 'FACTS_READ_FAILED', severity: 'error', message, hint, file: shown }],
    };
  }
  const before = previous(file);
  if (before && sameFacts(before, facts)) return { hostname, file: shown, status: 'unchanged', facts: before, diagnostics: [] };
  if (dryRun) return { hostname, file: shown, status: 'measured', facts, diagnostics: [] };
  const dir = join(file, '..');
  try {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st?.isSymbolicLink() || (st && !st.isDirectory())) {
      throw new DurableError(
        'EMIT_WRITE_FAILED',
        `${dir} is not a directory of the site (a link or a file): facts are written into the site directory only`,
        'Make facts/ a plain directory of the site.',
        dir,
      );
    }
    if (!st) mkdirSync(dir);
    writeFileAtomic(file, factsText(hostname, facts));
  } catch (e) {
    const message = e instanceof DurableError ? e.message : `cannot write ${shown}: ${(e as Error).message}`;
    const hint = 'Make facts/ a plain directory of the site that you can write to.';
    return {
      hostname,
      file: shown,
      status: 'failed',
      facts,
      diagnostics: [{ code: 'EMIT_WRITE_FAILED', severity: 'error', message, file: shown, hint }],
    };
  }
  return { hostname, file: shown, status: 'written', facts, diagnostics: [] };
}

/** The facts a file holds now, when it is a valid facts file. */
function previous(file: string): MeasuredFacts | undefined {
  try {
    const read = readBounded(file, MAX_FILE_BYTES, false);
    if ('problem' in read) return undefined;
    const value: unknown = parse(read.bytes.toString('utf8'));
    return factsValidator()(value) ? factsFromDocument(value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
