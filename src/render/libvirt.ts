// The lab's libvirt files: the network (with the DHCP split of dnsmasq.ts), one domain per node
// and define.sh.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { ipv4Of, nodeFirmware } from '../model/index.ts';
import { vipReservation } from '../derive/dhcp-boot.ts';
import { ipxeSplitLines } from './dnsmasq.ts';
import { dnsmasqLine } from '../formats/escape.ts';
import { kindOf } from './kinds/index.ts';
import { renderPart, renderTemplate, type Keep } from './templates.ts';
import { computeAlways, memoEach, type NodeMemo } from '../model/memo.ts';

/** libvirt lab network; each node's `<host>` kept with the node under watch (`memo`), the whole text by `keep`. */
export function renderLibvirtNetwork(model: SiteModel, memo: NodeMemo = computeAlways, keep?: Keep): string {
  // libvirt allows one <host> per address, and an IPv4 <host> needs one: extra NICs, and
  // nodes without a fixed `ip`, get DHCP from the range.
  const host = (n: ResolvedNode) =>
    renderPart('network-host.xml.eta', { hosts: n.ip !== undefined ? [{ mac: n.macs[0] ?? '', name: n.hostname, ip: n.ip }] : [] });
  return renderTemplate(
    'network.xml',
    {
      site: model.site,
      name: model.lab.networkName,
      bridge: model.lab.bridge,
      domain: model.network.domain,
      address: ipv4Of(model).gateway,
      netmask: ipv4Of(model).netmask,
      tftpRoot: model.lab.tftpRoot,
      uefiLoader: model.boot.uefiLoader,
      dhcpStart: ipv4Of(model).dhcpStart,
      dhcpEnd: ipv4Of(model).dhcpEnd,
      vip: vipReservation(model),
      // The iPXE split is the part libvirt's network XML cannot express itself.
      options: ipxeSplitLines(model).map((o) => dnsmasqLine(o.key, o.values)),
    },
    { './network-host.xml.eta': memoEach(memo, 'network.xml', model.nodes, host) },
    keep,
  );
}

/** Name of a node's lab VM. */
export function domainName(model: SiteModel, hostname: string): string {
  return `${model.site.replace(/_/g, '-')}-${hostname}`;
}

function diskPath(model: SiteModel, hostname: string): string {
  return `${model.lab.diskDir}/${domainName(model, hostname)}.qcow2`;
}

function dataDiskPath(model: SiteModel, hostname: string): string {
  return `${model.lab.diskDir}/${domainName(model, hostname)}-data.qcow2`;
}

/** The libvirt lab domain of one node. */
export function renderLibvirtDomain(model: SiteModel, n: ResolvedNode): string {
  const lab = kindOf(n).lab(model);
  return renderTemplate('domain.xml', {
    site: model.site,
    hostname: n.hostname,
    role: lab.label,
    name: domainName(model, n.hostname),
    title: `harvgen ${model.site} ${n.hostname} (${lab.label})`,
    comment: [...lab.comment],
    memoryMib: n.lab.memoryMib,
    vcpus: n.lab.vcpus,
    firmware: nodeFirmware(model, n),
    secureBoot: model.boot.secureBoot !== undefined && n.arch === 'x86_64',
    arm64: n.arch === 'arm64',
    // KVM runs only guests of the host's own architecture; any other is emulated (TCG).
    emulated: n.arch !== model.lab.hostArch,
    disk: lab.disk ? diskPath(model, n.hostname) : undefined,
    dataDisk: lab.dataDisk ? dataDiskPath(model, n.hostname) : undefined,
    nicModel: n.lab.nicModel,
    nics: n.macs.map((mac, i) => ({
      mac,
      bus: i + 1,
      busHex: `0x${(i + 1).toString(16).padStart(2, '0')}`,
      name: labNicName(i),
      boot: i === 0,
    })),
    netBootOrder: lab.netBootOrder,
    network: model.lab.networkName,
  });
}

/**
 * Name the guest gives the NIC of a node's `index`-th boot MAC (0-based) in its lab VM: each NIC
 * sits alone on PCIe bus index+1 (q35, one root port each), so systemd's predictable naming
 * (net.ifnames=1) calls it `enp<bus>s0`, for virtio and e1000e alike.
 */
export function labNicName(index: number): string {
  return `enp${index + 1}s0`;
}

/** libvirt/define.sh; each node's disks and VM kept with the node under watch (`memo`), the whole text by `keep`. */
export function renderDefineScript(model: SiteModel, memo: NodeMemo = computeAlways, keep?: Keep): string {
  const creator = model.nodes.find((n) => n.boot === 'harvester' && n.role === 'create');
  const order = creator ? [creator, ...model.nodes.filter((n) => n !== creator)] : model.nodes;
  const domain = (n: ResolvedNode) => {
    const lab = kindOf(n).lab(model);
    const entry = {
      name: domainName(model, n.hostname),
      file: `${n.hostname}.xml`,
      disks: [
        ...(lab.disk ? [{ path: diskPath(model, n.hostname), gib: n.lab.diskGib }] : []),
        ...(lab.dataDisk ? [{ path: dataDiskPath(model, n.hostname), gib: n.lab.dataDiskGib }] : []),
      ],
    };
    return renderPart('define-domain.sh.eta', { domains: [entry] });
  };
  return renderTemplate(
    'define.sh',
    {
      site: model.site,
      network: model.lab.networkName,
      diskDir: model.lab.diskDir,
      startHint: order.map((n) => `virsh start ${domainName(model, n.hostname)}`).join('; ') + (creator ? ' (create node first)' : ''),
    },
    { './define-domain.sh.eta': memoEach(memo, 'define.sh', model.nodes, domain) },
    keep,
  );
}
