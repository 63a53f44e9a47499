// `harvgen init <site-dir>`: a commented starting point that passes `check` as written: site.yaml
// and one node file, each with the editor modeline pointing at the schema this harvgen ships,
// the cluster token and password in secrets/ (random, listed in a .gitignore there). It never
// overwrites: an existing site.yaml (or any file it would write) stops it before it writes.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const schemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));

/** What init wrote, or why it did not (`io`: a file could not be written, rather than a wrong request). */
export type InitResult = { readonly files: readonly string[]; readonly site: string } | { readonly error: string; readonly io?: boolean };

/** A site name from a directory name: lowercase, only [a-z0-9_-], no leading or trailing separator. */
export function siteNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
  return name === '' ? 'site' : name;
}

const modeline = (from: string, schema: string) =>
  `# yaml-language-server: $schema=${relative(from, join(schemaDir, schema)).split(sep).join('/')}`;

/** Scaffold a site in `dir` (created when missing). */
export async function initSite(dir: string): Promise<InitResult> {
  const root = resolve(dir);
  const site = siteNameFor(root);
  const files: Record<string, string> = {
    'site.yaml': siteYaml(modeline(root, 'site.schema.json'), site),
    'nodes/node-1.yaml': nodeYaml(modeline(join(root, 'nodes'), 'node.schema.json')),
    'secrets/token': `${randomBytes(24).toString('base64url')}\n`,
    'secrets/password': `${randomBytes(12).toString('base64url')}\n`,
    'secrets/.gitignore': '# Keep the secrets out of git; create them on the machine that builds.\n*\n!.gitignore\n',
  };
  const existing = Object.keys(files).filter((f) => existsSync(join(root, f)));
  if (existing.length > 0) return { error: `${join(dir, existing[0]!)} exists; harvgen init never overwrites (pick an empty directory)` };
  for (const [rel, text] of Object.entries(files)) {
    try {
      await mkdir(join(root, rel, '..'), { recursive: true });
      await writeFile(join(root, rel), text, { flag: 'wx', mode: rel.startsWith('secrets/') ? 0o600 : 0o644 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { error: `cannot create ${join(dir, rel)}: ${err.code ?? err.message}`, io: true };
    }
  }
  return { files: Object.keys(files).map((f) => join(dir, f)), site };
}

function siteYaml(schemaLine: string, site: string): string {
  return `${schemaLine}
#
# A Harvester site for harvgen. Check it with \`harvgen check <this dir>\`, build it with
# \`harvgen build <this dir>\`; README "The inventory" explains every key (your editor completes
# them through the line above).
site: ${site}
description: New Harvester site

harvester:
  version: v1.6.0
  # Where the release files are served (artifacts/fetch.sh in the built tree downloads them).
  artifacts: http://192.168.122.1/artifacts/v1.6.0

boot:
  server: http://192.168.122.1      # where nginx serves the built tree
  firmware: uefi

network:
  cidr: 192.168.122.0/24
  gateway: 192.168.122.1
  dns: [192.168.122.1]
  dhcp_range: 192.168.122.150-192.168.122.250   # nodes and the VIP stay outside it

cluster:
  vip: 192.168.122.120
  # Secrets stay out of the YAML: files in secrets/ (git-ignored) or { env: NAME }.
  token: { file: secrets/token }
  password: { file: secrets/password }   # the password of the rancher user; written as a hash

defaults:
  install:
    device: /dev/vda                 # prefer /dev/disk/by-id/... on real hardware

# One node per file in nodes/ (the file name is the hostname), or list them here:
# nodes:
#   - hostname: node-2
#     mac: 52:54:00:00:00:02
#     ip: 192.168.122.12
`;
}

function nodeYaml(schemaLine: string): string {
  return `${schemaLine}
# The node that creates the cluster (the first node does unless one says role: create).
# Its hostname is the file name: node-1.
mac: 52:54:00:00:00:01
ip: 192.168.122.11
role: create
`;
}
