// The "next steps" a build prints once per run, after its per-site summaries: how to deploy what
// was built (README "Deploy"). Computed from the files the sites actually have, so a site is
// never told to run a script it does not have (a site of only generic OS nodes has no
// artifacts/fetch.sh; a site without a lab section may have no libvirt/define.sh). All the
// wording is here, in deployHints.
import { DHCP_SERVERS } from '../derive/dhcp-servers/index.ts';
import { DIRS, LAYOUT } from '../derive/layout.ts';

/** A built site: its name, output directory and files (relative to it). */
export interface BuiltSite {
  readonly site: string;
  readonly dir: string;
  readonly files: readonly string[];
}

/** A file of the tree that holds a secret (a marker in the committed tree). */
const holdsSecrets = (f: string) => f.startsWith(`${DIRS.configs}/`) || f === LAYOUT.unknownJoinConfig;

/** The files deployHints reads of a site's: the ones it names, and one that holds secrets, if any. */
const named = new Set<string>([
  LAYOUT.nginx,
  ...Object.values(DHCP_SERVERS).map((s) => s.nextStep.file),
  LAYOUT.defineScript,
  LAYOUT.fetchScript,
]);

/**
 * Of a site's files, those deployHints reads (it says the same of them as of all of them): a build
 * of many sites keeps these few instead of every path.
 */
export function hintFiles(files: readonly string[]): string[] {
  const secret = files.find(holdsSecrets);
  return [...files.filter((f) => named.has(f)), ...(secret !== undefined ? [secret] : [])];
}

/**
 * The lines to print after a build (none when no site was built). `secrets`: which tree was
 * built; a committed tree (`markers`) with node configs is not the one to serve.
 */
export function deployHints(sites: readonly BuiltSite[], secrets: 'markers' | 'filled' = 'filled'): string[] {
  if (sites.length === 0) return [];
  const committed = secrets === 'markers' ? sites.filter((s) => s.files.some(holdsSecrets)) : [];
  if (committed.length > 0) {
    // The committed tree of a site with node configs holds markers: the deploy tree is served.
    const names = committed.length === sites.length ? '' : ` of ${committed.map((s) => s.site).join(', ')}`;
    return [
      'next steps (`harvgen help deploy`):',
      `  commit:  this is the committed tree${names} (secrets as markers, which the installer refuses): review \`git diff\`, commit`,
      `  deploy:  where the secrets are, \`harvgen build --deploy\` writes the tree to serve (deploy/<site>/), then follow \`harvgen help deploy\``,
    ];
  }
  /** The sites with `file`; `(in a, b)` when not every site has it. */
  const having = (file: string) => sites.filter((s) => s.files.includes(file));
  const which = (file: string) => {
    const h = having(file);
    return h.length === sites.length ? '' : ` (${h.map((s) => s.site).join(', ')})`;
  };
  const dirs = sites.length === 1 ? `${sites[0]!.dir}/` : `each site directory (${sites.map((s) => `${s.dir}/`).join(', ')})`;
  const lines = ['next steps (`harvgen help deploy`):'];
  if (having(LAYOUT.nginx).length > 0) {
    lines.push(`  serve:   copy ${dirs} to the web server and include its ${LAYOUT.nginx}${which(LAYOUT.nginx)}`);
  } else lines.push(`  serve:   copy ${dirs} to the web server`);
  // Each site's DHCP form (`dhcp.server`): the file it has says which.
  const forms = Object.values(DHCP_SERVERS)
    .map((s) => s.nextStep)
    .filter((f) => having(f.file).length > 0);
  const dhcp = forms.length > 0 ? forms.map((f) => `${f.verb} ${f.file}${which(f.file)}`).join(', ') : undefined;
  const lab =
    having(LAYOUT.defineScript).length > 0 ? `for a libvirt lab run ${LAYOUT.defineScript}${which(LAYOUT.defineScript)}` : undefined;
  if (dhcp || lab) lines.push(`  dhcp:    ${[dhcp, lab].filter(Boolean).join(', or ')}`);
  if (having(LAYOUT.fetchScript).length > 0) {
    lines.push(
      `  release: run ${LAYOUT.fetchScript}${which(LAYOUT.fetchScript)} on the web server to download and verify the Harvester files`,
    );
  }
  return lines;
}
