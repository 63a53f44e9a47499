// `publish:` (docs/fleet.md): the boot server's side of fleet publishing, rendered like the socat
// units: pull.json (what `harvgen pull` reads: the repository, the key that checks signatures,
// where versions live) and a systemd service and timer that run it. No secret: the publishing
// key stays in `key_file` on the boot server.
import type { SiteModel, SitePublish } from '../model/index.ts';
import { renderTemplate } from './templates.ts';

/** Minutes between two pulls (the timer; a pull of an unchanged tag costs one request). */
const PULL_EVERY_MINUTES = 5;

/** Where pull.json is installed on the boot server. */
export function pullConfigPath(site: string): string {
  return `/etc/harvgen/${site}/pull.json`;
}

/** The unit names of a site's materializer. */
export function pullUnitNames(model: SiteModel): { readonly service: string; readonly timer: string } {
  const base = `harvgen-${model.site.replace(/_/g, '-')}-pull`;
  return { service: `${base}.service`, timer: `${base}.timer` };
}

/** What `harvgen pull --config` reads (src/pull/config.ts checks it): sorted keys, one trailing newline. */
export interface PullConfig {
  readonly format: 1;
  readonly keep: number;
  readonly key_file: string;
  readonly nginx_reload: readonly string[];
  readonly nginx_test: readonly string[];
  readonly public_key: string;
  readonly repository: string;
  readonly root: string;
  readonly site: string;
  readonly state_dir: string;
  readonly tag: string;
}

/** pull.json of a site with `publish:`. */
export function renderPullConfig(model: SiteModel, publish: SitePublish): string {
  const config: PullConfig = {
    format: 1,
    keep: publish.keep,
    key_file: publish.keyFile,
    nginx_reload: ['nginx', '-s', 'reload'],
    nginx_test: ['nginx', '-t'],
    public_key: publish.publicKey,
    repository: publish.pullRepository,
    root: model.nginx.root,
    site: model.site,
    state_dir: publish.stateDir,
    tag: publish.tag,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The service that runs one pull. */
export function renderPullService(model: SiteModel, publish: SitePublish): string {
  const names = pullUnitNames(model);
  return renderTemplate('pull.service', {
    site: model.site,
    unit: names.service,
    timer: names.timer,
    config: pullConfigPath(model.site),
    keyFile: publish.keyFile,
    description: `harvgen ${model.site}: pull the published tree from ${publish.pullRepository} and serve it`,
  });
}

/** The timer that starts the service at boot and every few minutes. */
export function renderPullTimer(model: SiteModel): string {
  const names = pullUnitNames(model);
  return renderTemplate('pull.timer', {
    unit: names.service,
    minutes: PULL_EVERY_MINUTES,
    description: `harvgen ${model.site}: pull the published tree every ${PULL_EVERY_MINUTES} minutes`,
  });
}

/**
 * `publish/cosign.pub`: the key other tools check the artifact's cosign signature with. The schema
 * allows only a PEM block of base64 lines (nothing else to escape); one trailing newline.
 */
export function renderCosignPublicKey(pem: string): string {
  return `${pem.replace(/\n*$/, '')}\n`;
}
