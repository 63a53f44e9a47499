// The help topics: each is one page of docs/ (shipped in the package), printed by
// `harvgen help <topic>` as plain text. The pages are the only copy of the text; this list only
// names them, in the order `harvgen help` lists them.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { packageFile } from '../../util/package-root.ts';
import { markdownToText } from './markdown.ts';

/** One help topic: its name on the command line, its page under docs/ and a one-line summary. */
export interface HelpTopic {
  readonly name: string;
  readonly page: string;
  readonly summary: string;
}

/** Every help topic; none is named like a command (test/docs-reach.test.ts checks that each docs page for users is one). */
export const TOPICS: readonly HelpTopic[] = [
  { name: 'getting-started', page: 'getting-started.md', summary: 'From an empty repository to a boot server' },
  { name: 'install', page: 'install.md', summary: 'Install harvgen from a tarball or git, upgrade, CI' },
  { name: 'inventory', page: 'inventory.md', summary: 'Sites, node files, layers, profiles and secrets' },
  { name: 'settings', page: 'reference/inventory.md', summary: 'Every inventory setting (generated from the schema)' },
  { name: 'deploy', page: 'deploy.md', summary: 'nginx, dnsmasq, proxy DHCP, Kea, ISC dhcpd, several sites on one server' },
  { name: 'verify-server', page: 'verify.md', summary: 'Check a boot server against the deploy tree; signed trees' },
  { name: 'fleet', page: 'fleet.md', summary: 'publish through an OCI registry, pull at each site, air gaps, the fleet from one place' },
  { name: 'day-2', page: 'day-2.md', summary: 'status, discover, install once, reinstalls, unknown machines, BMC scripts' },
  { name: 'site-report', page: 'report.md', summary: 'The sites as static HTML pages: nodes, states, a picture, a print view' },
  { name: 'hardware-facts', page: 'facts.md', summary: "Measure machines (BMC or a dump) and check the installer's rules on them" },
  { name: 'generic-os', page: 'generic-os.md', summary: 'OS profiles, cloud-init, OpenCHAMI BSS, arm64, iSCSI' },
  { name: 'boot-modes', page: 'boot-modes.md', summary: 'Secure Boot, UEFI HTTP boot, embedded iPXE, Oracle Cloud' },
  { name: 'install-without-pxe', page: 'install-without-pxe.md', summary: 'A boot ISO per node, mounted by its BMC, with no DHCP' },
  { name: 'failover', page: 'failover.md', summary: 'Two boot servers behind one shared address' },
  { name: 'metal3', page: 'metal3.md', summary: 'A BareMetalHost per node for Metal3 and Ironic' },
  {
    name: 'upgrade',
    page: 'upgrade.md',
    summary: 'Upgrade a cluster from the repository: the Version and Upgrade objects, the checks, done',
  },
  { name: 'vlan', page: 'vlan.md', summary: 'Tagged VLANs: boot native and install tagged, VLANs in the NIC firmware, the switch' },
  { name: 'ipv6', page: 'ipv6.md', summary: 'IPv6-only and dual-stack networks: DHCPv6, router advertisements, nginx on IPv6' },
  { name: 'security', page: 'security.md', summary: 'Value kinds, who may fetch what, file_key, bounds, crashes' },
  { name: 'speed', page: 'speed.md', summary: 'How fast a build is, --jobs, watch' },
  { name: 'troubleshooting', page: 'troubleshooting.md', summary: 'Exit codes, common errors and what to do' },
  { name: 'commands', page: 'commands.md', summary: 'Every command and flag, streams, exit codes, --json' },
  { name: 'output', page: 'output.md', summary: 'Every file a build writes' },
  { name: 'codes', page: 'reference/codes.md', summary: 'Every diagnostic code (generated from the catalogue)' },
  { name: 'installer-rules', page: 'reference/installer-rules.md', summary: "The installer's rules harvgen checks, and known releases" },
  { name: 'library', page: 'library.md', summary: 'Using harvgen from JavaScript or TypeScript' },
  { name: 'compatibility', page: 'compatibility.md', summary: 'What may change between versions, deprecations' },
];

/** The docs/ directory of this package (next to src/ and dist/). */
export const DOCS_DIR = pathToFileURL(`${packageFile('docs')}/`);

/** The topic of that name, or undefined. */
export function findTopic(name: string): HelpTopic | undefined {
  return TOPICS.find((t) => t.name === name);
}

/** The page of a topic as plain terminal text (links to other topics name the topic). */
export function topicText(topic: HelpTopic): string {
  const markdown = readFileSync(new URL(topic.page, DOCS_DIR), 'utf8');
  return markdownToText(markdown, { page: topic.page, topicOf: (page) => TOPICS.find((t) => t.page === page)?.name });
}
