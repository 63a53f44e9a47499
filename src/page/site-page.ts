// One site's pages: `sites/<site>/index.html` (its counts, its picture, its boot servers and the
// first page of its nodes), `nodes-<n>.html` for the next pages (at most `perPage` nodes each, so
// no page grows with the site), and the print view (src/page/print.ts).
import type { CompiledSite } from '../pipeline.ts';
import type { SiteModel } from '../model/index.ts';
import { pageDocument } from './document.ts';
import { html, href, type Markup, scrollBox } from './html.ts';
import { sitePicture } from './picture.ts';
import { countRows, type NodeRow, type SiteCounts } from './rows.ts';
import { nodeSettings, type FilesFrom } from './settings.ts';
import { pager } from './pager.ts';
import { printPages } from './print.ts';
import type { PageFile } from './types.ts';

/** What a site's pages are made from. */
export interface SitePages {
  readonly compiled: CompiledSite;
  /** Where the settings' files are named from. */
  readonly files: FilesFrom;
  readonly model: SiteModel;
  readonly rows: readonly NodeRow[];
  readonly logs: boolean;
  readonly generatedAt: string;
  readonly perPage: number;
  /** With a fleet record: the site's published digest and what its boot servers serve. */
  readonly published?: Markup;
}

/** The file of the `page`th page of a site's nodes (1-based), relative to the site's folder. */
export function nodesPageName(page: number): string {
  return page === 1 ? 'index.html' : `nodes-${page}.html`;
}

/** Counts as a definition list. */
export function countsList(c: SiteCounts, logs: boolean): Markup {
  const items: [string, number][] = [['nodes', c.nodes]];
  if (logs) {
    for (const [k, v] of Object.entries(c.byState).sort()) items.push([k, v]);
    items.push(['with problems', c.problems]);
  }
  for (const [k, v] of Object.entries(c.byRole).sort()) items.push([`role ${k}`, v]);
  for (const [k, v] of Object.entries(c.byKind).sort()) items.push([`kind ${k}`, v]);
  return html`<dl class="counts">
    ${items.map(
      ([k, v]) =>
        html`<div>
          <dt>${k}</dt>
          <dd>${v}</dd>
        </div>`,
    )}
  </dl>`;
}

function stateCell(r: NodeRow): Markup {
  return html`<span class="state s-${r.state}">${r.state}</span>`;
}

function nodeTableRow(r: NodeRow): Markup {
  const problems = r.problems.map((p) => html`<span class="problem">${p}</span><br />`);
  return html`<tr id="${r.anchor}" data-state="${r.state}">
    <th scope="row"><a href="${href(`#settings-${r.hostname}`)}">${r.hostname}</a></th>
    <td>${stateCell(r)}</td>
    <td>${r.role}</td>
    <td>${r.kind}</td>
    <td class="mono">${r.macs.join(' ')}</td>
    <td class="mono">${r.address}</td>
    <td>${r.vlan}</td>
    <td>${r.medium}</td>
    <td class="mono">${r.bmc}</td>
    <td class="mono">${r.disk}</td>
    <td>${r.release}</td>
    <td>${r.generation}</td>
    <td>${r.lastBoot}</td>
    <td class="problems">${problems}</td>
  </tr>`;
}

const HEAD = [
  'State',
  'Role',
  'Kind',
  'Boot MACs',
  'Address',
  'VLAN',
  'Medium',
  'BMC',
  'Install disk',
  'Release',
  'Reinstall',
  'Last boot',
  'Problems',
];

/** The nodes table of one page. */
function nodesTable(rows: readonly NodeRow[], id: string): Markup {
  return html`<p class="filter">
      <label for="${id}-filter">Filter the nodes on this page</label> <input id="${id}-filter" type="search" data-for="${id}" />
    </p>
    ${scrollBox(
      'The nodes table',
      html` <table id="${id}">
        <caption>
          Nodes
        </caption>
        <thead>
          <tr>
            <th scope="col">Hostname</th>
            ${HEAD.map((h) => html`<th scope="col">${h}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(nodeTableRow)}
        </tbody>
      </table>`,
    )}`;
}

/** The boot servers in words (beside the picture, for a screen reader and a search). */
function serversText(model: SiteModel): Markup {
  const f = model.failover;
  const servers = f
    ? html`<li>Failover pair sharing ${f.shared}: ${f.servers.map((s) => html`${s.name} (${s.role}, ${s.address}) `)}</li>`
    : html`<li>Boot server ${model.boot.host} port ${model.boot.port}${model.boot.prefix}</li>`;
  const v4 = model.network.ipv4;
  return html`<ul>
    ${servers}
    <li>DHCP: ${model.dhcp.server} (${model.dnsmasq.mode})</li>
    ${v4 ? html`<li>Network ${v4.cidr}, gateway ${v4.gateway}</li>` : ''}${model.network.vlans.map((v) => html`<li>VLAN ${v.id}: ${v.cidr} via ${v.interface}</li>`)}${model.release ? html`<li>Harvester ${model.release.version.raw}</li>` : ''}
  </ul>`;
}

/** Every page of one site, paths relative to the report's root. */
export function sitePages(s: SitePages): PageFile[] {
  const dir = `sites/${s.model.site}`;
  const pages = Math.max(1, Math.ceil(s.rows.length / s.perPage));
  const byHost = new Map(s.model.nodes.map((n) => [n.hostname, n] as const));
  const counts = countRows(s.rows);
  const files: PageFile[] = [];
  for (let page = 1; page <= pages; page++) {
    const rows = s.rows.slice((page - 1) * s.perPage, page * s.perPage);
    const first = page === 1;
    const nav = pager(page, pages, nodesPageName, 'Pages of nodes');
    const body = html`${
        first
          ? html`<h2>Counts</h2>
              ${countsList(counts, s.logs)}
              <h2>Boot servers and networks</h2>
              ${serversText(s.model)}${sitePicture(s.model, s.rows)}${
                s.published
                  ? html`<h2>Published</h2>
                      ${s.published}`
                  : ''
              }`
          : ''
      }
      ${s.logs ? '' : html`<p>No boot-server log was read: states are unknown.</p>`}
      <h2>Nodes${pages > 1 ? ` (page ${page} of ${pages})` : ''}</h2>
      ${nav}${nodesTable(rows, 'nodes')}${nav}
      <h2>Settings</h2>
      <p>What explain says of each node's main settings, and where each came from.</p>
      ${rows.map((r) => nodeSettings(s.compiled, byHost.get(r.hostname)!, s.files))}`;
    files.push({
      path: `${dir}/${nodesPageName(page)}`,
      contents: pageDocument({
        title: `Site ${s.model.site}${page > 1 ? `, nodes page ${page}` : ''}`,
        home: '../../index.html',
        generatedAt: s.generatedAt,
        nav: [
          ['index.html', `Site ${s.model.site}`],
          ['print.html', 'Print view'],
        ],
        body,
      }),
    });
  }
  files.push(...printPages({ site: s.model.site, rows: s.rows, generatedAt: s.generatedAt }));
  return files;
}
