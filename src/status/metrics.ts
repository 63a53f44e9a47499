// `status --metrics <file>`: the per-site summaries in Prometheus's text exposition format, for
// node_exporter's textfile collector (which reads every `*.prom` file of its directory at each
// scrape, so the file is written beside itself and renamed into place: never read half-written).
// Families sorted by name, series by their labels: the same summaries give the same bytes.
import type { SiteSummary } from './fleet.ts';
import { VERDICTS } from './fleet.ts';

/** A label value as the exposition format wants it: `\`, `"` and line feeds escaped. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: `\` and line feeds escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly series: { labels: [string, string][]; value: number }[];
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : String(v));

/** The metrics text of the summaries. */
export function metricsText(summaries: readonly SiteSummary[]): string {
  const fam = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, series: [] });
  const nodes = fam('harvgen_nodes', 'gauge', 'Nodes of the site by the verdict of harvgen status.');
  const never = fam(
    'harvgen_nodes_never_booted',
    'gauge',
    "Nodes with no request in the boot server's log the given number of hours after the site's deploy.",
  );
  const unknown = fam('harvgen_unknown_machines', 'gauge', 'Machines the site does not know that asked the boot server for a script.');
  const requests = fam('harvgen_status_requests_total', 'counter', "Requests of the site read from its boot server's access logs.");
  const last = fam('harvgen_status_last_request_timestamp_seconds', 'gauge', 'Time of the newest request of the site read from its logs.');
  const ok = fam('harvgen_status_site_ok', 'gauge', "1 when the site's inventory compiled and its logs were read, else 0.");
  const deployed = fam('harvgen_status_deployed_timestamp_seconds', 'gauge', 'Deploy time of the site that never_booted counts from.');
  for (const s of summaries) {
    const site: [string, string] = ['site', s.site];
    ok.series.push({ labels: [site], value: s.ok ? 1 : 0 });
    // A site not wholly read has no counts (they would say less than the truth): its harvgen_status_site_ok is 0.
    if (!s.ok) continue;
    for (const v of VERDICTS) nodes.series.push({ labels: [site, ['verdict', v]], value: s.verdicts[v] });
    never.series.push({ labels: [site], value: s.never_booted.length });
    unknown.series.push({ labels: [site], value: s.unknown });
    requests.series.push({ labels: [site], value: s.requests });
    if (s.last_request !== undefined) last.series.push({ labels: [site], value: Date.parse(s.last_request) / 1000 });
    if (s.deployed_at !== undefined) deployed.series.push({ labels: [site], value: Math.floor(Date.parse(s.deployed_at) / 1000) });
  }
  const key = (l: [string, string][]) => l.map(([k, v]) => `${k}\u0000${v}`).join('\u0001');
  const lines: string[] = [];
  for (const f of [nodes, never, unknown, requests, last, ok, deployed].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (f.series.length === 0) continue;
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const series = [...f.series].sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : key(a.labels) > key(b.labels) ? 1 : 0));
    for (const s of series) lines.push(`${f.name}{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}} ${num(s.value)}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
