// The site's nginx config: the whole server block (nginx/harvgen.conf) or its locations alone
// (nginx/locations.conf), from templates/nginx.conf.eta.
import { imageOf, mediaNamePattern } from '../derive/media/index.ts';
import type { SiteModel } from '../model/index.ts';
import { servedBinaries } from '../model/boot-files.ts';
import { servedArtifacts } from '../model/served-releases.ts';
import type { ProtectedFile } from './access.ts';
import { CONFIG_FORMATS } from '../derive/configs/index.ts';
import { namesKeyed } from '../derive/file-names.ts';
import { DIRS, LAYOUT } from '../derive/layout.ts';
import { renderTemplate, type Keep } from './templates.ts';
import { sealConfigId } from './nginx-config-id.ts';

/** What renderNginx writes besides the model: which form, the copied binaries, the protected files. */
export interface NginxOptions {
  /** The whole server block (nginx/harvgen.conf); else the site's locations only (nginx/locations.conf). */
  readonly standalone: boolean;
  /** iPXE binaries copied into the tree. */
  readonly binaries: readonly string[];
  /** Served files with their allowed clients (`protectedFiles`, src/render/access.ts); with `nginx.access: open`, the media nodes' configs and seeds only. */
  readonly protected: readonly ProtectedFile[];
}

/**
 * nginx: `standalone` is the whole server block (nginx/harvgen.conf); otherwise only the site's
 * locations (nginx/locations.conf), to include with other sites' in one shared server block.
 * A shared block serves only the release files under the site's own prefix (others would be
 * served twice; the cross-site check refuses that). With `nginx.access: nodes` each protected
 * file has its own exact location with its `allow` list; with `open` the per-node directories are
 * served by pattern to everyone, but for the configs and seeds of the nodes that boot from an image,
 * which keep their exact locations (nginx picks an exact location before any pattern). `nginx.real_ip` goes into the server block, or, in the shared
 * form, into each protected location (`real_ip_header` may appear once per server block, and the
 * realip module reads a location's settings before the access check).
 */
export function renderNginx(model: SiteModel, opts: NginxOptions, keep?: Keep): string {
  const { standalone } = opts;
  const open = model.nginx.access === 'open';
  const under = (loc: string) => model.boot.prefix === '' || loc.startsWith(`${model.boot.prefix}/`);
  // A copy: the template's strict proxy cannot wrap the frozen model's own objects.
  const realIp = model.nginx.realIp ? { from: [...model.nginx.realIp.from], header: model.nginx.realIp.header } : undefined;
  return renderTemplate(
    'nginx.conf',
    {
      standalone,
      open,
      site: model.site,
      prefix: model.boot.prefix,
      listen: model.nginx.listen,
      listen6: model.nginx.listen6,
      listenVlans: [...model.nginx.listenVlans],
      root: model.nginx.root,
      accessLog: model.nginx.accessLog,
      realIp: standalone ? realIp : undefined,
      locationRealIp: standalone ? undefined : realIp,
      // A boot ISO is served as bytes; every other protected file as text.
      protected: opts.protected.map((f) => ({ ...f, binary: f.path.startsWith(`${DIRS.media}/`) })),
      // The boot server itself and nginx.verify_from read every protected file (harvgen verify).
      verifiers: [...model.nginx.verifiers],
      media: open && model.nodes.some((n) => imageOf(n) !== undefined),
      // The images' names (their declarations'): a pattern of harvgen's own, not an inventory value.
      mediaName: mediaNamePattern(namesKeyed(model)),
      artifacts: servedArtifacts(model).filter((a) => standalone || under(a.location)),
      unknownJoin: open && model.boot.unknown === 'join',
      // With `nginx.access: open`, each served config format by pattern (its declaration,
      // src/derive/configs/); with `nodes`, each file has its exact location in `protected`.
      configs: open
        ? CONFIG_FORMATS.filter((f) => model.nodes.some((n) => f.ownersOf(n).length > 0)).map((f) => ({
            comment: f.nginxComment,
            dir: f.dir,
            pattern: f.pattern(namesKeyed(model)).nginx,
          }))
        : [],
      keyed: namesKeyed(model),
      report: model.boot.report,
      eventsDir: LAYOUT.eventsDir,
      discover: LAYOUT.discover,
      dirs: DIRS,
      entryScript: LAYOUT.entryScript,
      unknownScript: LAYOUT.unknownScript,
      unknownJoinConfig: LAYOUT.unknownJoinConfig,
      binaries: servedBinaries(model, opts.binaries),
      // publish: the materializer's state.json (no secret: digests, commit, verdict) for verify
      // --fleet, and the config's own id, which `harvgen pull` waits for after a reload.
      state: model.publish
        ? {
            location: `${model.boot.prefix}/${LAYOUT.servedState}`,
            file: `${model.publish.stateDir}/state.json`,
            // Answers the id sealPublished writes in (the template holds it as zeros).
            config: `${model.boot.prefix}/${LAYOUT.servedConfig}`,
          }
        : undefined,
    },
    undefined,
    keep,
    model.publish ? sealPublished : undefined,
  );
}

/** A published site's config with its id written in (sealConfigId); the template always holds its zeros. */
function sealPublished(text: string): string {
  const out = sealConfigId(text);
  if (out === text) throw new Error("templates/nginx.conf.eta: a published site's config has no .harvgen/config id to write");
  return out;
}
