/**
 * The Harvester installer's own code as a judge (../shared/installer-oracle/: the installer's
 * source of six releases, unmodified, and a small overlay that calls its functions in the order its
 * automatic install does). `build.sh` builds one static binary per release into ORACLE_OUT (here
 * `.tmp/real/installer-oracle`, since ../shared is read-only in CI); `run-oracle.sh` runs one config
 * as root in private mount and network namespaces where the disks, NICs and firmware the config
 * names exist, and prints the installer's verdict as JSON.
 *
 * What a node's installer is given comes from harvgen's own derivation, the one the tree is written
 * from: its config file (`renderHarvesterConfig` of `buildHarvesterConfig`, with the secrets of a
 * deploy build) and its kernel line (`kernelArgs`, whose `harvester.*` keys the installer reads as
 * config keys). The machine faked for it is the one harvgen's installer rules judge
 * (`installerMachine`: measured facts over declared ones, a lab domain's sizing); what harvgen
 * does not know is a machine that passes every hardware check.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './initramfs.ts';
import { describe, run } from './proc.ts';
import { requireProgram, requireRoot } from './programs.ts';
import { tempDir } from '../../helpers/tmp.ts';
import type { HarvesterNode, SiteModel } from '../../../src/model/index.ts';
import type { SiteInput } from '../../../src/types/site-input.ts';
import { buildHarvesterConfig, renderHarvesterConfig } from '../../../src/derive/harvester/config.ts';
import { kernelArgs } from '../../../src/derive/harvester/cmdline.ts';
import { installerMachine } from '../../../src/validate/rules/installer.ts';

/** The installer-oracle folder (HARVGEN_INSTALLER_ORACLE, else ../shared/installer-oracle beside the checkout). */
export const ORACLE_SRC = process.env.HARVGEN_INSTALLER_ORACLE ?? path.resolve(REPO_ROOT, '../shared/installer-oracle');
/** Where build.sh puts bin/ and build/ (the shared folder is read-only in CI). */
export const ORACLE_OUT = process.env.ORACLE_OUT ?? path.join(REPO_ROOT, '.tmp/real/installer-oracle');

/** The oracle of each release line: the installer source kept for it. */
export const ORACLE_TAGS: Readonly<Record<string, string>> = {
  '1.4': 'v1.4.3',
  '1.5': 'v1.5.2',
  '1.6': 'v1.6.1',
  '1.7': 'v1.7.1',
  '1.8': 'v1.8.1',
  '1.9': 'v1.9.0-rc6',
};

/** The oracle that judges a release (its line's kept source), or undefined (v1.2, v1.3: not kept). */
export function oracleTag(version: { major: number; minor: number }): string | undefined {
  return ORACLE_TAGS[`${version.major}.${version.minor}`];
}

/** What the oracle prints (../shared/installer-oracle/README.md, "Output"). */
export interface OracleVerdict {
  version: string;
  commit: string;
  load_ok: boolean;
  load_error: string;
  prevalidate_ok: boolean;
  prevalidate_error: string;
  validate_ok: boolean;
  validate_errors: string[];
  cos_ok: boolean;
  cos_error: string;
  accepted: boolean;
  warnings: string[];
  not_run: string[];
  stage: string;
  mode: string;
  /** Not the oracle's: the NetworkManager profiles the installer wrote (file name to text), read from the run's /etc overlay. */
  profiles?: Record<string, string>;
}

/** The installer's first refusal, in its own words. */
export function refusal(v: OracleVerdict): string {
  return [v.load_error, v.prevalidate_error, ...v.validate_errors, v.cos_error].filter((s) => s !== '').join(' | ');
}

/** Accepted through its last stage: loaded, pre-validated, validated and converted by ConvertToCOS. */
export function acceptedWhole(v: OracleVerdict): boolean {
  return v.accepted && v.load_ok && v.prevalidate_ok && v.validate_ok && v.cos_ok && v.stage === 'cos';
}

/** What one node's installer is given, and the machine it runs on. */
export interface InstallerInput {
  tag: string;
  config: string;
  cmdline: string;
  /** ORACLE_* variables of run-oracle.sh: the faked machine. */
  machine: Record<string, string>;
}

/**
 * The installer's inputs of a Harvester node (`input`: the site's inventory, for its lab domains),
 * from a model compiled with the secrets filled in; undefined for a release no oracle judges.
 */
export function installerInput(input: Pick<SiteInput, 'lab'>, model: SiteModel, node: HarvesterNode): InstallerInput | undefined {
  const tag = oracleTag(node.release.version);
  if (tag === undefined) return undefined;
  const config = renderHarvesterConfig(model, node, buildHarvesterConfig(model, node, 'filled'), 'filled');
  const cmdline = kernelArgs(model, node, node.macs[0]).join(' ');
  const { facts, firmware } = installerMachine(input as SiteInput, model, node);
  const machine: Record<string, string> = { ORACLE_FIRMWARE: firmware };
  const num = (n: number | undefined, dflt: string) => (n === undefined ? dflt : String(n));
  machine.ORACLE_DISK_GIB = num(facts.diskGib, '500');
  machine.ORACLE_DATA_GIB = num(facts.dataDiskGib, '500');
  machine.ORACLE_MEM_GIB = num(facts.memoryGib, '512');
  if (facts.memoryTotalGib !== undefined) machine.ORACLE_MEMTOTAL_GIB = String(facts.memoryTotalGib);
  machine.ORACLE_CPUS = num(facts.cpus, '64');
  // virtio-net reports no speed (-1), which the installer's check skips.
  machine.ORACLE_NIC_MBPS =
    facts.nicSpeedMbps !== undefined ? String(facts.nicSpeedMbps) : facts.nicDriver === 'virtio_net' ? '-1' : '25000';
  machine.ORACLE_VIRT = facts.virtualized === true ? 'kvm' : 'none';
  machine.ORACLE_KVM = facts.kvm === false ? '0' : '1';
  return { tag, config, cmdline, machine };
}

let built: Promise<void> | undefined;

/**
 * True when the oracles can run here (root, unshare, ip, Go or built binaries); false after a loud
 * skip (a failure under HARVGEN_REQUIRE_REAL=1). Builds the binaries once when any is missing.
 */
export async function oraclesReady(): Promise<boolean> {
  if (!requireRoot() || !requireProgram('unshare', 'ip', 'flock')) return false;
  if (!existsSync(path.join(ORACLE_SRC, 'build.sh'))) {
    if (!requireProgram(path.join(ORACLE_SRC, 'build.sh'))) return false;
  }
  const missing = Object.values(ORACLE_TAGS).filter((t) => !existsSync(path.join(ORACLE_OUT, 'bin', `installer-oracle-${t}`)));
  if (missing.length > 0 && !requireProgram('go')) return false;
  // Always under the build lock, even when every binary is there: a build running elsewhere (.ci/run
  // starts one beside the tests, holding the lock) writes them in place, and a half-written binary
  // must not be run. What is missing is asked again under the lock: another process may have built it.
  built ??= (async () => {
    mkdirSync(ORACLE_OUT, { recursive: true });
    // One build at a time over ORACLE_OUT (two test files may start at once): build.sh removes
    // and rewrites build/<tag> and bin/ there.
    const script =
      'b=$1; o=$2; shift 2; m=; for t; do [ -x "$o/bin/installer-oracle-$t" ] || m="$m $t"; done; [ -z "$m" ] || exec sh "$b" $m';
    const tags = Object.values(ORACLE_TAGS);
    const r = await run(
      ['flock', path.join(ORACLE_OUT, '.build.lock'), 'sh', '-c', script, 'build', path.join(ORACLE_SRC, 'build.sh'), ORACLE_OUT, ...tags],
      {
        env: { ...process.env, ORACLE_OUT, GOTOOLCHAIN: 'local' },
        timeoutMs: 1_200_000,
      },
    );
    const still = tags.filter((t) => !existsSync(path.join(ORACLE_OUT, 'bin', `installer-oracle-${t}`)));
    if (r.code !== 0 || still.length > 0) throw new Error(`building the installer oracles (${still.join(', ')}) failed:\n${describe(r)}`);
  })();
  await built;
  return true;
}

let seq = 0;
const work = tempDir('installer-oracle');

/**
 * What each oracle run gets of its own, in a mount namespace of its own around run-oracle.sh
 * (unchanged inside it): a /tmp, since the installer writes fixed paths there
 * (/tmp/elemental/config.yaml, its cOS config), which two runs at once would race on; and /etc as
 * an overlay whose changes are thrown away, since its cOS conversion writes NetworkManager profiles
 * into /etc/NetworkManager/system-connections and first deletes every profile there: on the host,
 * that would remove the machine's own network profiles.
 */
const ISOLATE = [
  'set -e',
  'p=$1; shift',
  'mkdir -p "$p/etc-up" "$p/etc-work"',
  'mount -t overlay oracle-etc -o "lowerdir=/etc,upperdir=$p/etc-up,workdir=$p/etc-work" /etc',
  'mount --bind "$p/tmp" /tmp',
  'exec sh "$@"',
].join('\n');

/**
 * The PATH run-oracle.sh is given: the directory of the Python interpreter `python3` names put first.
 * A version manager's `python3` (pyenv's shim) is a script that costs as much as the rest of an
 * oracle run; the corpus runs the oracle thousands of times.
 */
let oraclePath: string | undefined;
function pathForOracle(): string {
  if (oraclePath === undefined) {
    const base = process.env.PATH ?? '/usr/bin:/bin';
    const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 30_000 });
    const exe = r.status === 0 ? r.stdout.trim() : '';
    oraclePath = path.isAbsolute(exe) ? `${path.dirname(exe)}:${base}` : base;
  }
  return oraclePath;
}

/** Run the oracle of `i.tag` on one installer input (ISOLATE); throws when the oracle itself fails. */
export async function judge(i: InstallerInput): Promise<OracleVerdict> {
  for (const dir of [ORACLE_OUT, ORACLE_SRC]) {
    if (path.resolve(dir).startsWith('/tmp/')) throw new Error(`${dir} is under /tmp, which each oracle run replaces: put it elsewhere`);
  }
  const priv = path.join(work, `run-${++seq}`);
  mkdirSync(path.join(priv, 'tmp'), { recursive: true });
  writeFileSync(path.join(priv, 'tmp/config.yaml'), i.config);
  const r = await run(
    [
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      ISOLATE,
      'oracle',
      priv,
      path.join(ORACLE_SRC, 'run-oracle.sh'),
      i.tag,
      '/tmp/config.yaml',
      i.cmdline,
    ],
    { env: { ...process.env, PATH: pathForOracle(), ORACLE_OUT, ...i.machine }, timeoutMs: 60_000 },
  );
  let v: OracleVerdict | undefined;
  try {
    v = JSON.parse(r.stdout) as OracleVerdict;
  } catch {
    /* below */
  }
  if (r.code !== 0 || v === undefined || typeof v.accepted !== 'boolean')
    throw new Error(`installer-oracle ${i.tag} failed on ${path.join(priv, 'tmp/config.yaml')}:\n${describe(r)}`);
  const nm = path.join(priv, 'etc-up/NetworkManager/system-connections');
  if (existsSync(nm)) v.profiles = Object.fromEntries(readdirSync(nm).map((f) => [f, readFileSync(path.join(nm, f), 'utf8')]));
  rmSync(priv, { recursive: true, force: true });
  return v;
}

/** Judge many inputs, `width` at a time, in order. */
export async function judgeAll(inputs: readonly InstallerInput[], width = 2): Promise<OracleVerdict[]> {
  const out: OracleVerdict[] = new Array(inputs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, inputs.length) }, async () => {
      while (next < inputs.length) {
        const k = next++;
        out[k] = await judge(inputs[k]!);
      }
    }),
  );
  return out;
}
