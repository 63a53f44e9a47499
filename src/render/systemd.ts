// The socat units that forward the boot server's ports to the cluster's VIP.
import type { SiteModel } from '../model/index.ts';
import { socatHost } from '../formats/escape.ts';
import { renderTemplate } from './templates.ts';

/** The socat forward units: one per port, to the VIP (none when forwarding is off, or without a cluster). */
export function forwardUnits(model: SiteModel): readonly { readonly port: number; readonly vip: string }[] {
  const vip = model.cluster?.vip;
  return model.outputs.forward && vip !== undefined ? model.forward.ports.map((port) => ({ port, vip })) : [];
}

/** File name of the forward unit for one port. */
export function forwardUnitName(model: SiteModel, port: number): string {
  return `harvgen-${model.site.replace(/_/g, '-')}-forward-${port}.service`;
}

/** The systemd unit forwarding one TCP port of this host to the VIP. */
export function renderForwardUnit(model: SiteModel, port: number, vip: string): string {
  // socat addresses: `:` and `,` are socat's own separators, so each part is a checked
  // address or integer; systemd escaping is the template's.
  const bind = model.forward.listenAddress !== undefined ? `,bind=${socatHost(model.forward.listenAddress)}` : '';
  return renderTemplate('forward.service', {
    site: model.site,
    port,
    unit: forwardUnitName(model, port),
    description: `harvgen ${model.site}: forward TCP ${port} to Harvester VIP ${vip}`,
    listenAddress: `TCP-LISTEN:${port}${bind},fork,reuseaddr`,
    connectAddress: `TCP:${socatHost(vip)}:${port}`,
  });
}
