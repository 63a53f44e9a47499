// What `explain` says of a node's main settings and where each came from, for its site page.
// Only the settings a person at the site asks about: never a cluster secret, a derived URL (a
// keyed file name would be one), a kernel command line or a lab size.
import { relative, resolve, sep } from 'node:path';
import { explainNode } from '../explain/index.ts';
import type { CompiledSite } from '../pipeline.ts';
import type { ResolvedNode } from '../model/index.ts';
import type { Provenance } from '../types/explain.ts';
import { html, type Markup, scrollBox } from './html.ts';

/** The keys shown: exact names, or a prefix ending in `.`. */
const SHOWN = [
  'boot',
  'arch',
  'role',
  'harvester_role',
  'state',
  'medium',
  'ip',
  'method',
  'prefix',
  'gateway',
  'dns',
  'vlan',
  'install.device',
  'install.data_disk',
  'harvester_version',
  'os',
  'iscsi.',
  'dhcp',
];

function shown(key: string): boolean {
  return SHOWN.some((k) => (k.endsWith('.') ? key.startsWith(k) : key === k));
}

/** Where the files are named from: the site's directory; the directory the run displays paths against (both absolute). */
export interface FilesFrom {
  readonly siteDir: string;
  readonly cwd: string;
}

/**
 * Where a value came from, in words; a file by its path from the site's directory (`site.yaml`,
 * `nodes/n1.yaml`, `../_defaults.yaml`), so that the page is the same wherever the checkout is.
 */
export function sourceText(s: Provenance, where: FilesFrom): string {
  if (s.kind === 'built-in') return 'built-in default';
  if (s.kind === 'derived') return `derived from ${s.from}`;
  if (s.file === undefined) return s.path;
  const file = relative(where.siteDir, resolve(where.cwd, s.file)).split(sep).join('/');
  return `${file}:${s.line ?? 0}:${s.col ?? 0} (${s.path})`;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(', ');
  return JSON.stringify(v);
}

/** A node's main settings as a collapsible table. */
export function nodeSettings(site: CompiledSite, node: ResolvedNode, where: FilesFrom): Markup {
  const values = explainNode(site, node).values.filter((v) => shown(v.key));
  const rows = values.map(
    (v) =>
      html`<tr>
        <th scope="row">${v.key}</th>
        <td class="mono">${valueText(v.value)}</td>
        <td>${sourceText(v.source, where)}</td>
      </tr>`,
  );
  return html`<details id="settings-${node.hostname}">
    <summary>${node.hostname}</summary>
    ${scrollBox(
      `Settings of ${node.hostname}`,
      html` <table>
        <caption>
          Settings of ${node.hostname}
        </caption>
        <thead>
          <tr>
            <th scope="col">Setting</th>
            <th scope="col">Value</th>
            <th scope="col">Where it came from</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>`,
    )}
  </details> `;
}
