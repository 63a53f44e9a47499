// The names of a node's own files: the plain ones of LAYOUT, or, when the site sets
// `nginx.file_key`, names that cannot be guessed without the key (README "Threat model", the
// second layer). Every renderer, the manifest, nginx's rules, the DHCP boot lines, explain and
// verify take a node file's name from here, so a keyed name is the same wherever it is written.
import { createHmac } from 'node:crypto';
import { FILE_KEY_MARKER } from '../load/file-key.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { imageOf } from './media/index.ts';
import { MEDIUM_FILE, SCRIPT_FILE, SHARED_MEDIUM_FILE, withTag, type FileKind } from './file-kinds.ts';
import { TAG_LENGTH } from './name-patterns.ts';
import { HARVESTER_CONFIG, NOCLOUD_SEED, servedConfigs, type ConfigFormat } from './configs/index.ts';

export { TAG_LENGTH };

/** The tag the committed tree shows in place of each real one. */
export const MASKED_TAG = 'x'.repeat(TAG_LENGTH);

/** What the HMAC keys: a version, the site and the plain path, so no two files share a tag. */
function tagInput(site: string, plain: string): string {
  return `harvgen file name v1\0${site}\0${plain}`;
}

/** The tag of one file's plain path: `MASKED_TAG` in the committed tree, undefined without a key. */
export function keyedTag(model: SiteModel, plain: string): string | undefined {
  const key = model.nginx.fileKey;
  if (key === undefined) return undefined;
  if (key === FILE_KEY_MARKER) return MASKED_TAG;
  return createHmac('sha256', key).update(tagInput(model.site, plain)).digest('hex').slice(0, TAG_LENGTH);
}

/** True when the site's node files have keyed names. */
export function namesKeyed(model: SiteModel): boolean {
  return model.nginx.fileKey !== undefined;
}

/** The path of one owner's file of `kind` (declared in src/derive/file-kinds.ts), keyed when the kind and the site are. */
export function nodeFilePath(model: SiteModel, kind: FileKind, owner: string, detail = ''): string {
  const plain = kind.path(owner, detail);
  return kind.keyed ? kind.path(owner, detail, keyedTag(model, plain)) : plain;
}

/** The path of the script of one boot MAC of a node the site knows. */
export function nodeScriptPath(model: SiteModel, mac: string): string {
  return nodeFilePath(model, SCRIPT_FILE, mac);
}

/** The URL of the script of one boot MAC (what DHCP, embed.ipxe, the manifest and explain name). */
export function nodeScriptUrl(model: SiteModel, mac: string): string {
  return `${model.boot.server}/${nodeScriptPath(model, mac)}`;
}

/** The plain path of the image a node boots from (its own, or its medium's shared one); undefined for network boot. */
export function plainMediumPath(node: Pick<ResolvedNode, 'hostname' | 'medium' | 'mediumImage'>): string | undefined {
  const image = imageOf(node);
  if (!image) return undefined;
  return imageKind(node).path(node.hostname, image.ext);
}

/** The kind of the image a node boots from: its own, or its medium's shared one. */
function imageKind(node: Pick<ResolvedNode, 'mediumImage'>): FileKind {
  return node.mediumImage === 'own' ? MEDIUM_FILE : SHARED_MEDIUM_FILE;
}

/** The path of the image a node boots from (keyed like its other files: it holds the nodes' network); undefined for network boot. */
export function mediumPath(model: SiteModel, node: ResolvedNode): string | undefined {
  const image = imageOf(node);
  return image === undefined ? undefined : nodeFilePath(model, imageKind(node), node.hostname, image.ext);
}

/** The URL the node's BMC inserts as virtual media (`bmc/<hostname>.sh media-boot`); undefined for a node that boots from the network. */
export function mediumUrl(model: SiteModel, node: ResolvedNode): string | undefined {
  const path = mediumPath(model, node);
  return path === undefined ? undefined : `${model.boot.server}/${path}`;
}

/** The path of one owner's served config of `format` (keyed under `nginx.file_key`, as every format is). */
export function configFilePath(model: SiteModel, format: ConfigFormat, owner: string): string {
  const plain = format.plain(owner);
  return withTag(plain, keyedTag(model, plain));
}

/** The NoCloud seed directory of one boot MAC of an OS node, with a trailing slash. */
export function cloudInitPath(model: SiteModel, mac: string): string {
  return configFilePath(model, NOCLOUD_SEED, mac);
}

/** The Harvester config of a node the site knows (unknown machines' join config is never keyed: boot.ipxe names it). */
export function harvesterConfigPath(model: SiteModel, node: ResolvedNode): string {
  return configFilePath(model, HARVESTER_CONFIG, node.hostname);
}

/**
 * The plain paths of a node's files that keyed names replace and that hold its data: its
 * Harvester config, its seed directories. With a key none of them is written, and verify checks
 * that the server does not answer them (a copy left from before the key).
 */
export function plainDataPaths(node: ResolvedNode): string[] {
  const medium = plainMediumPath(node);
  const media = medium !== undefined ? [medium] : [];
  return [...servedConfigs(node).flatMap(({ format, owners }) => owners.map((o) => format.plain(o))), ...media];
}
