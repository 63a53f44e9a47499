// What `explain` says of a node's main settings and where each came from, for its site page.
// Only the settings a person at the site asks about: never a cluster secret, a derived URL (a
// keyed file name would be one), a kernel command line or a lab size.
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

/** Where a value came from, in words. */
export function sourceText(s: Provenance): string {
  if (s.kind === 'built-in') return 'built-in default';
  if (s.kind === 'derived') return `derived from ${s.from}`;
  return s.file !== undefined ? `${s.file}:${s.line ?? 0}:${s.col ?? 0} (${s.path})` : s.path;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(', ');
  return JSON.stringify(v);
}

/** A node's main settings as a collapsible table. */
export function nodeSettings(site: CompiledSite, node: ResolvedNode): Markup {
  const values = explainNode(site, node).values.filter((v) => shown(v.key));
  const rows = values.map(
    (v) =>
      html`<tr>
        <th scope="row">${v.key}</th>
        <td class="mono">${valueText(v.value)}</td>
        <td>${sourceText(v.source)}</td>
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
