// metal3/ (`metal3.export: true`): a BareMetalHost per exported node (src/derive/metal3-host.ts
// builds it and says which nodes are left out or refused), and a kustomization listing them, so
// that `kubectl apply -k metal3/` or a Flux Kustomization applies the directory. Never served.
import type { SiteModel } from '../model/index.ts';
import type { BareMetalHost } from '../derive/metal3-host.ts';
import { LAYOUT } from '../derive/layout.ts';
import { header } from './upgrade.ts';
import { toYaml } from '../formats/yaml.ts';

/** One node's BareMetalHost; `sha256`: its live ISO's, said in the header (Metal3 checks none). */
export function renderMetal3Host(model: SiteModel, host: BareMetalHost, sha256?: string): string {
  return (
    header(model, `Metal3 BareMetalHost ${host.metadata.name}`, [
      `Its BMC credentials: the Secret ${host.spec.bmc.credentialsName} (keys username and password) in namespace ${host.metadata.namespace}.`,
      ...(sha256 !== undefined
        ? [`Its image's SHA-256: ${sha256} (Metal3 does not check a live ISO's checksum; manifest.json lists it too).`]
        : []),
    ]) + toYaml(host)
  );
}

/** metal3/kustomization.yaml: the hosts' files, by name. */
export function renderMetal3Kustomization(model: SiteModel, hostnames: readonly string[]): string {
  const prefix = 'metal3/';
  return (
    header(model, 'the Metal3 BareMetalHosts', []) +
    toYaml({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: hostnames.map((h) => LAYOUT.metal3Host(h).slice(prefix.length)),
    })
  );
}
