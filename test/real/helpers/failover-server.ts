// What runs on one boot server of a failover pair besides nginx and DHCP: the release files as
// the tree's artifacts/fetch.sh fetches and verifies them, and keepalived with the server's
// generated check.sh and notify.sh installed where keepalived.conf names them (a private mount
// namespace: the host's /etc, /srv and systemctl are untouched).
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Netns } from './netns.ts';
import { run, startDaemon, type Daemon } from './proc.ts';
import type { LabArtifacts } from './lab.ts';
import type { SiteTree } from './tree.ts';

/**
 * A release mirror (`<mirror>/<version>/`) as artifacts/fetch.sh takes one: the test's kernel and
 * initramfs under the release's names, small stand-ins for the rootfs and the ISO, and the
 * release's SHA-512 list.
 */
export async function releaseMirror(tree: SiteTree, artifacts: LabArtifacts, mirror: string): Promise<void> {
  const release = tree.manifest.artifacts;
  if (!release) return;
  const version = /\/(v[^/]+)\/[^/]+$/.exec(new URL(release.kernel).pathname)?.[1];
  if (!version) throw new Error(`no release version in ${release.kernel}`);
  const dir = path.join(mirror, version);
  await mkdir(dir, { recursive: true });
  const name = (u: string) => path.posix.basename(new URL(u).pathname);
  await copyFile(artifacts.kernel, path.join(dir, name(release.kernel)));
  await copyFile(artifacts.initrd, path.join(dir, name(release.initrd)));
  for (const u of [release.rootfs, release.iso]) if (u) writeFileSync(path.join(dir, name(u)), `stand-in for ${name(u)}\n`);
  const files = [release.kernel, release.initrd, release.rootfs, release.iso].flatMap((u) => (u ? [name(u)] : []));
  const list = /^fetch \S+ "\$target" (\S+) /m.exec(readFileSync(path.join(tree.dir, 'artifacts/fetch.sh'), 'utf8'))?.[1];
  if (!list) throw new Error('artifacts/fetch.sh names no SHA-512 list');
  const sums = await run(['sha512sum', ...files], { cwd: dir, timeoutMs: 60_000 });
  if (sums.code !== 0) throw new Error(`sha512sum: ${sums.stderr}`);
  writeFileSync(path.join(dir, list), sums.stdout);
}

/** The tree's own artifacts/fetch.sh, from `mirror` into `target`: downloads, verifies, records the sizes keepalived's check compares. */
export async function runFetch(tree: SiteTree, mirror: string, target: string): Promise<void> {
  if (!tree.manifest.artifacts) return;
  const r = await run(['sh', path.join(tree.dir, 'artifacts/fetch.sh'), target], {
    env: { ...process.env, HARVGEN_RELEASE_BASE: `file://${mirror}` },
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`artifacts/fetch.sh failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * keepalived in `ns` with `conf`, and the server's generated check.sh installed where keepalived.conf
 * names it (/etc/keepalived/harvgen-check.sh) and the release files where check.sh reads their
 * verified sizes: both bind mounts in the mount namespace `ip netns exec` gives the command, so the
 * host's /etc and /srv are untouched. `check` changes the installed copy (a mutation).
 */
export function startKeepalived(
  ns: Netns,
  label: string,
  conf: string,
  o: { tree: string; server: string; runDir: string; artifactsDir: string; check?: (text: string) => string },
): Daemon {
  const etc = path.join(o.runDir, 'etc-keepalived');
  mkdirSync(etc, { recursive: true });
  const generated = readFileSync(path.join(o.tree, 'failover', o.server, 'check.sh'), 'utf8');
  const check = o.check ? o.check(generated) : generated;
  if (o.check && check === generated) throw new Error(`the check.sh mutation did not apply to ${o.server}`);
  writeFileSync(path.join(etc, 'harvgen-check.sh'), check, { mode: 0o755 });
  // notify.sh's `systemctl stop|start <unit>`: a stand-in that writes the request to systemctl.log,
  // which the pair carries out on the test's own DHCP daemon (no systemd in the namespace).
  const notify = path.join(o.tree, 'failover', o.server, 'notify.sh');
  if (existsSync(notify)) writeFileSync(path.join(etc, 'harvgen-notify.sh'), readFileSync(notify), { mode: 0o755 });
  const fake = path.join(o.runDir, 'systemctl');
  writeFileSync(fake, `#!/bin/sh\necho "$*" >>${path.join(o.runDir, 'systemctl.log')}\n`, { mode: 0o755 });
  const dirs = [...new Set([...generated.matchAll(/^release \S+ (\S+) /gm)].map((m) => m[1]!))];
  const pid = (f: string) => path.join(o.runDir, f);
  const script = [
    'set -e',
    `mount --bind ${etc} /etc/keepalived`,
    `mount --bind ${fake} /usr/bin/systemctl`,
    ...(dirs.length ? ['mount -t tmpfs tmpfs /srv'] : []),
    ...dirs.flatMap((d) => {
      if (!d.startsWith('/srv/')) throw new Error(`check.sh reads release files outside /srv: ${d}`);
      return [`mkdir -p ${d}`, `mount --bind ${o.artifactsDir} ${d}`];
    }),
    `exec keepalived -n -l -D -P -f ${conf} -p ${pid('k.pid')} -r ${pid('v.pid')} -c ${pid('c.pid')}`,
  ].join('\n');
  return startDaemon(label, ns.exec(['sh', '-c', script]));
}
