// The picture of a site, drawn as inline SVG (no library, no font): its boot server (or the
// failover pair and the address they share), the DHCP server, the management network and each
// VLAN, and the nodes on each, coloured by state. Bounded: at most MAX_PER_NET nodes are drawn on
// a network, the rest counted (the table lists every node).
import type { SiteModel } from '../model/index.ts';
import { scopeOf } from '../model/index.ts';
import { html, type Markup } from './html.ts';
import type { NodeRow } from './rows.ts';

/** The most node boxes drawn on one network. */
export const MAX_PER_NET = 64;
const WIDTH = 960;
const PER_LINE = 8;
const BOX_W = 108;
const BOX_H = 26;
const GAP = 6;
const LEFT = 40;

/** Fill of a node box by its state (dark text stays readable on each). */
const FILL: Readonly<Record<string, string>> = {
  installed: '#dff3e4',
  installing: '#fff3cd',
  booting: '#fff3cd',
  booted: '#fff3cd',
  failed: '#fde2e1',
  loop: '#fde2e1',
};

/** One network of the picture and the rows of the nodes on it. */
interface Net {
  readonly label: string;
  readonly rows: NodeRow[];
}

/** The networks of a site, management first, then each VLAN by id, with the nodes on each. */
function networksOf(model: SiteModel, rows: readonly NodeRow[]): Net[] {
  const v4 = model.network.ipv4;
  const mgmt: Net = {
    label: `management network ${v4 ? v4.cidr : (model.network.ipv6?.cidr ?? '')}${v4 ? ` gateway ${v4.gateway}` : ''}`,
    rows: [],
  };
  const vlans = new Map<number, Net>(
    model.network.vlans.map((v) => [v.id, { label: `VLAN ${v.id} ${v.cidr} via ${v.interface}`, rows: [] }] as const),
  );
  const byHost = new Map(rows.map((r) => [r.hostname, r] as const));
  for (const n of model.nodes) {
    const row = byHost.get(n.hostname);
    if (!row) continue;
    const scope = scopeOf(model, n);
    (scope ? vlans.get(scope.id)! : mgmt).rows.push(row);
  }
  return [mgmt, ...[...vlans.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])];
}

/** The boxes of the top row: each boot server, the shared address, the DHCP server. */
function serverBoxes(model: SiteModel): { label: string; sub: string }[] {
  const dhcp = { label: `DHCP: ${model.dhcp.server}`, sub: model.dnsmasq.mode === 'proxy' ? 'proxy DHCP' : 'DHCP server' };
  if (model.failover) {
    const f = model.failover;
    return [
      ...f.servers.map((s) => ({ label: `${s.name} (${s.role})`, sub: s.address })),
      { label: 'shared address', sub: `${f.shared} (VRRP ${f.virtualRouterId})` },
      dhcp,
    ];
  }
  return [{ label: 'boot server', sub: `${model.boot.host}:${model.boot.port}` }, dhcp];
}

/** The SVG of a site; `rows` are all its nodes. */
export function sitePicture(model: SiteModel, rows: readonly NodeRow[]): Markup {
  const parts: Markup[] = [];
  const servers = serverBoxes(model);
  servers.forEach((s, i) => {
    const x = LEFT + i * 220;
    parts.push(
      html`<rect x="${x}" y="10" width="200" height="46" rx="6" fill="#e8eefc" stroke="#1a1a1a" />
        <text x="${x + 8}" y="29" font-size="13" font-weight="bold" fill="#1a1a1a">${s.label}</text>
        <text x="${x + 8}" y="47" font-size="12" fill="#1a1a1a">${s.sub}</text>`,
    );
  });
  let y = 90;
  let lastNet = y;
  const nets = networksOf(model, rows);
  for (const net of nets) {
    lastNet = y;
    parts.push(
      html`<line x1="${LEFT - 20}" y1="${y}" x2="${WIDTH - 10}" y2="${y}" stroke="#1a1a1a" stroke-width="3" />
        <text x="${LEFT}" y="${y - 6}" font-size="12" fill="#1a1a1a">${net.label} (${net.rows.length} node(s))</text>`,
    );
    const shown = net.rows.slice(0, MAX_PER_NET);
    shown.forEach((r, i) => {
      const x = LEFT + (i % PER_LINE) * (BOX_W + GAP);
      const top = y + 10 + Math.floor(i / PER_LINE) * (BOX_H + GAP);
      parts.push(
        html`<g
          ><title>${r.hostname}: ${r.state}</title
          ><rect x="${x}" y="${top}" width="${BOX_W}" height="${BOX_H}" rx="4" fill="${FILL[r.state] ?? '#eeeeee'}" stroke="#555" />
          <text x="${x + 6}" y="${top + 17}" font-size="11" fill="#1a1a1a"
            >${r.hostname.length > 15 ? `${r.hostname.slice(0, 14)}…` : r.hostname}</text
          ></g
        >`,
      );
    });
    const lines = Math.ceil(shown.length / PER_LINE);
    if (net.rows.length > shown.length)
      parts.push(
        html`<text x="${LEFT}" y="${y + 24 + lines * (BOX_H + GAP)}" font-size="12" fill="#1a1a1a"
          >and ${net.rows.length - shown.length} more (see the table)</text
        >`,
      );
    y += 40 + lines * (BOX_H + GAP) + (net.rows.length > shown.length ? 20 : 0);
  }
  // The trunk: the servers reach every network.
  parts.unshift(
    html`<line x1="${LEFT - 20}" y1="33" x2="${LEFT - 20}" y2="${lastNet}" stroke="#1a1a1a" stroke-width="3" />
      <line x1="${LEFT - 20}" y1="33" x2="${LEFT}" y2="33" stroke="#1a1a1a" stroke-width="3" />`,
  );
  const height = y;
  const desc = `${servers.map((s) => `${s.label} ${s.sub}`).join('; ')}; ${nets.map((n) => `${n.label}: ${n.rows.length} node(s)`).join('; ')}`;
  return html`<figure>
    <svg role="img" aria-labelledby="picture-title picture-desc" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">
      <title id="picture-title">${`Site ${model.site}: boot servers, DHCP, networks and nodes`}</title>
      <desc id="picture-desc">${desc}</desc>
      ${parts}
    </svg>
    <figcaption>Boot servers, DHCP server, networks and the nodes on each (colour: state).</figcaption>
  </figure>`;
}
