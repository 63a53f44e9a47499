// What build() and the checks between sites read of a site's model, as a small plain value: a
// site compiled on a worker thread (src/orchestrate/pool.ts) comes back with this in place of its
// model and locator, which never cross threads; a site compiled in process is summarized from its
// model, so that both paths read the same values.
import { dhcpServerOf } from '../derive/dhcp-servers/index.ts';
import type { Locator } from '../load/index.ts';
import type { SiteModel } from '../model/index.ts';
import type { CrossSiteFacts } from '../validate/cross-site-facts.ts';

/** A site's model as build() reads it. */
export interface SiteSummary {
  /** `host:port` of its boot server. */
  readonly server: string;
  /** `dnsmasq.host`, when its DHCP is dnsmasq's and that host is named. */
  readonly dnsmasq?: string;
  readonly nodes: number;
  /** How many files it rendered, for a site `check` held light (src/orchestrate/held.ts). */
  readonly files?: number;
  /** What the checks between sites need of it (src/validate/cross-site-facts.ts). */
  readonly facts?: CrossSiteFacts;
}

/** A site as it comes back from a worker: its summary in place of its model. */
export interface Summarized {
  readonly model?: SiteModel;
  readonly locate?: Locator;
  readonly summary?: SiteSummary;
}

/** The summary of a site's model (without the facts, which only a worker takes ahead). */
export function summarize(model: SiteModel): SiteSummary {
  return {
    server: `${model.boot.host}:${model.boot.port}`,
    ...(model.dnsmasq.host !== undefined && dhcpServerOf(model).sharedHost ? { dnsmasq: model.dnsmasq.host } : {}),
    nodes: model.nodes.length,
  };
}

/** The summary of a site: from its model when it has one here, else the one it came back with. */
export function summaryOf(site: Summarized): SiteSummary | undefined {
  return site.model ? summarize(site.model) : site.summary;
}

/** Of a site's source texts, those of the files `shown` names (what a report's code frames show). */
export function shownSources(sources: Readonly<Record<string, string>>, shown: (path: string) => boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(sources).filter(([path]) => shown(path)));
}
