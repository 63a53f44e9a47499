// What a failed fetch in the log means, named by its real cause: each kind of file has its own
// way to go missing (the deploy tree not copied, the release files not downloaded, an OS profile's
// file on a server that does not serve it) and its own way to be refused (the access rules of a
// node's data, or nginx not allowed to read the file).
import type { ResolvedNode, ResolvedOs, SiteModel } from '../model/index.ts';
import { osFiles, unservedOnBootServer } from '../model/os-files.ts';
import { servesRelease } from '../model/served-releases.ts';
import type { LogRequest } from './log.ts';
import { nodeAllow, nodeFilesBound } from '../render/access.ts';
import type { FetchKind } from './types.ts';

const iso = (t: number) => new Date(t).toISOString();

/** The URL of the OS profile's boot file `r` fetched, matched by its path. */
function fileUrl(os: ResolvedOs, r: LogRequest): string | undefined {
  return osFiles(os)
    .map((f) => f.url)
    .find((u) => {
      try {
        return new URL(u).pathname === r.path;
      } catch {
        return false;
      }
    });
}

/** Why a log cannot be read, and what to do about it (`problem`: the error code, or the message of one without). */
/** What a log's problem code means, in words (the message prints these, not the code). */
export function problemWords(problem: string): string {
  switch (problem) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTREG':
      return 'not a regular file: a FIFO, a socket or a device';
    case 'EFBIG':
      return 'too large';
    default:
      return problem;
  }
}

export function unreadableHint(problem: string): string {
  switch (problem) {
    case 'ENOENT':
      return "No such file: name the access log the site's nginx writes (nginx.access_log; by default /var/log/nginx/harvgen-<site>.access.log), plain, rotated or .gz.";
    case 'EACCES':
    case 'EPERM':
      return "Permission denied: run status as a user who may read nginx's logs (often the adm group), or copy the logs somewhere readable.";
    case 'EISDIR':
      return 'A directory: name the log files in it (--log dir/access.log --log dir/access.log.1 ...).';
    default:
      return problem.startsWith('Z_') || /gzip|unexpected end/i.test(problem)
        ? 'It starts like a gzip file but does not unpack (cut short while it was rotated or copied?): name a complete copy.'
        : 'Name nginx access logs of the boot server (plain, rotated or .gz).';
  }
}

/** Why a boot file (kernel, initrd, rootfs, ISO) is missing, by whose file it is. */
function missingFile(model: SiteModel, node: ResolvedNode, r: LogRequest): string {
  if (node.boot === 'os') {
    const url = fileUrl(node.os, r) ?? r.path;
    return unservedOnBootServer(model, url)
      ? `${url} of OS profile ${node.os.name} is on the boot server, whose generated nginx serves only the tree and the release files (OS_PROFILE_FILE_NOT_SERVED): serve the profile's files from another server, or add an nginx location for them yourself`
      : `is ${url}, named by OS profile ${node.os.name}, on the server that serves it?`;
  }
  if (node.boot === 'harvester')
    return servesRelease(model, node.release)
      ? `are the release files of ${node.release.version.raw} in ${node.release.artifactsDir} on the boot server (artifacts/fetch.sh in the tree downloads them there)?`
      : `are the release files of ${node.release.version.raw} on the server harvester.artifacts names?`;
  return 'is the file on the server?';
}

/** Data of one node served to its addresses only (`nginx.access: nodes`; under `open`, a node that boots from an image). */
const guarded = (model: SiteModel, kind: FetchKind, node: ResolvedNode) =>
  nodeFilesBound(model, node) && (kind === 'config' || kind === 'seed');

/** Which rule serves a node's files to its addresses only, for the message. */
const ruleOf = (model: SiteModel) =>
  model.nginx.access === 'nodes' ? 'nginx.access: nodes' : 'kept under nginx.access: open for a node that boots from an image';

/** What a fetch answered with an error status means for the node. */
export function problemOf(model: SiteModel, kind: FetchKind, r: LogRequest, node: ResolvedNode): string {
  const at = `${iso(r.time)} from ${r.ip}`;
  if (r.status === 403)
    return guarded(model, kind, node)
      ? `${kind} refused (403) ${at}: its access rules (${ruleOf(model)}) allow only the node's addresses (${nodeAllow(model, node).join(', ') || 'none'}); did the node boot from another address?`
      : `${kind} refused (403) ${at}: nginx may not read the file (its permissions or SELinux label on the boot server)`;
  if (r.status === 404)
    return kind === 'script' || kind === 'config' || kind === 'seed'
      ? `${kind} not found (404) ${at}: is the deploy tree on the server current (harvgen build --deploy, then copy it to nginx.root)?`
      : `${kind} not found (404) ${at}: ${missingFile(model, node, r)}`;
  return `${kind} answered ${r.status} ${at}`;
}
