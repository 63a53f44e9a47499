// Authoring source for schema/site.schema.json (kept as JS for comments and reuse of
// fragments). `npm run gen:schema` writes the JSON file and the generated TS types;
// test/schema-drift.test.ts fails when either is stale.
import { VALUE_KINDS, type ValueKindName } from '../src/util/value-kinds.ts';
import { CONFIG_FORMATS } from '../src/derive/configs/index.ts';
import { MEDIA } from '../src/derive/media/index.ts';
import { DHCP_SERVERS } from '../src/derive/dhcp-servers/index.ts';
import { BUILTIN_DEFAULTS } from '../src/model/defaults.ts';
import { MAX_PUBLIC_KEY, PUBLIC_KEY_PATTERN } from '../src/util/ssh-public-key.ts';

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const strList = (description: string, extra: Record<string, unknown> = {}) => ({
  type: 'array',
  items: { type: 'string' },
  description,
  ...extra,
});
/** A kernel console (`console=` argument): a device name, optionally `,<baud>[parity][bits][r]`. */
const CONSOLE_PATTERN = '^[a-zA-Z][a-zA-Z0-9]*(,[0-9]+[noe]?[0-9]?r?)?$';
const ipv4 = (description: string) => str(description + ' (IPv4 address, dotted quad)');
/** IPv6 text: hex digits and colons only (the ipv6 rule then asks for the canonical form). */
const IPV6_CHARS = '[0-9A-Fa-f:]{2,39}';
const ipv6 = (description: string) => str(description, { pattern: `^${IPV6_CHARS}$` });
/** An IPv4 address or CIDR block in canonical dotted-quad form (host bits are checked by a rule). */
const CIDR_PATTERN =
  '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(/(3[0-2]|[12]?[0-9]))?$';
// A secret: the value itself (a warning: it is in git), `{ env: NAME }` or `{ file: path }`
// (relative to the file that says it). Resolved by src/load/secrets.ts before validation.
const secret = (description: string) => ({
  type: ['string', 'object'],
  minLength: 1,
  description: `${description} Keep it out of git with \`{ env: NAME }\` (an environment variable) or \`{ file: path }\` (a file, relative to the YAML file that names it; one trailing newline is dropped).`,
  ...secretRef('value'),
});
/** The reference form of a secret alone: exactly one of `env` and `file`. */
function secretRef(what: string) {
  return {
    properties: {
      env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: `Name of the environment variable holding the ${what}.` },
      file: { type: 'string', minLength: 1, description: `Path of the file holding the ${what}, relative to this YAML file.` },
    },
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
  };
}
// A string that lands verbatim in generated files: its pattern and length come from the one
// definition of its kind (src/util/value-kinds.ts), and `x-harvgen-value` names the kind so
// the schema stage can say exactly what is wrong with a value.
const value = (kind: ValueKindName, description: string) => ({
  type: 'string',
  description: `${description} Form: ${VALUE_KINDS[kind].form}.`,
  pattern: VALUE_KINDS[kind].pattern,
  maxLength: VALUE_KINDS[kind].maxLength,
  'x-harvgen-value': kind,
});
const obj = (description: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...extra,
});

const nic = obj(
  'A network interface of the node. Give a `name` (predictable NIC name such as eno1, or enp1s0 in a lab VM), a `mac`, or both.',
  {
    name: value(
      'ifname',
      'NIC name on the installed system (systemd predictable name, e.g. `eno1`; in a generated lab VM the NIC of the k-th MAC is `enp<k>s0`).',
    ),
    mac: str(
      'MAC address in any common spelling (`52:54:00:AA:BB:01`, `52-54-00-aa-bb-01`, `525400aabb01`, `5254.00aa.bb01`); normalized to lowercase colons.',
    ),
  },
  { title: 'NicInput' },
);

/** A disk by its path under /dev: no control character (udev writes a space in a name as the text `\x20`). */
const DISK_PATH = '^/dev/[^\\u0000-\\u001f\\u007f-\\u009f]*$';

/** Printable text without leading or trailing blanks (a serial, a model). */
const PRINTABLE = '^[!-~]([ -~]{0,126}[!-~])?$';

/**
 * A disk by its path, or by what it is: a selector resolved against the node's measured facts
 * (src/facts/disk-selector.ts). JSON Schema applies `pattern` to a string and the properties to
 * a map, as for the secret references.
 */
const disk = (description: string) => ({
  type: ['string', 'object'],
  description: `${description} Either a path under \`/dev/\` without control characters, or a map that names the disk by what it is (\`serial\`, \`wwn\`, \`model\`, \`min_gib\`, \`max_gib\`; every key given must match): harvgen finds it among the disks measured of the node's machine (\`harvgen facts\`, a dump) and writes its \`/dev/disk/by-id/\` path (docs/inventory.md, "The install disk by what it is").`,
  pattern: DISK_PATH,
  additionalProperties: false,
  minProperties: 1,
  properties: {
    serial: str("The disk's serial number, as its facts file lists it.", { pattern: PRINTABLE, maxLength: 128 }),
    wwn: str(
      "The disk's World Wide Name: 16 or 32 hexadecimal digits, optionally after `0x` or `naa.` (`eui.` for an NVMe EUI-64 or NGUID).",
      { pattern: '^((0x|naa\\.|eui\\.)?[0-9A-Fa-f]{16}|(0x|naa\\.|eui\\.)?[0-9A-Fa-f]{32})$' },
    ),
    model: str('The disk model, as its facts file lists it; `*` stands for any run of characters; upper and lower case match alike.', {
      pattern: PRINTABLE,
      maxLength: 128,
    }),
    min_gib: { type: 'integer', minimum: 1, maximum: 1048576, description: 'The disk has at least this many GiB (2^30 bytes).' },
    max_gib: { type: 'integer', minimum: 1, maximum: 1048576, description: 'The disk has at most this many GiB.' },
  },
  title: 'DiskSelectorInput',
});

const installSettings = obj(
  'Disk and installer settings for the node (`install.*` in the Harvester config).',
  {
    device: disk(
      'Disk Harvester is installed on. Prefer a persistent name (`/dev/disk/by-id/...`, `/dev/disk/by-path/...`) or a selector; `/dev/sdX` names can change between boots and get a warning.',
    ),
    data_disk: disk('Optional separate disk for VM data (Longhorn default disk). Must differ from `device`.'),
    // The installer's schema wants a word (`^\S+$`, its `console=` argument): an empty or spaced
    // value is refused here, at the value, instead of failing the rendered config as a harvgen bug.
    tty: str('Console the installed system uses, e.g. `tty1` or `ttyS0,115200n8` (`install.tty`).', { pattern: CONSOLE_PATTERN }),
    persistent_partition_size: str(
      'Size of the persistent partition when no data disk is used, e.g. `150Gi` (`install.persistent_partition_size`, Harvester v1.2+).',
      { pattern: '^[0-9]+(Mi|Gi)$' },
    ),
    wipe_all_disks: {
      type: 'boolean',
      description: 'Wipe every disk that holds an old Harvester/cOS installation (`install.wipe_all_disks`, Harvester v1.5+).',
    },
    wipe_disks_list: strList('Extra disks to wipe before installing (`install.wipe_disks_list`, Harvester v1.5+).'),
    cordoned: {
      type: 'boolean',
      description:
        'Join the cluster cordoned: the node gets the label `harvesterhci.io/install-cordoned=true` and runs no VMs until it is uncordoned (`install.cordoned`, Harvester v1.9+). Not on the create node nor on a witness: the installer refuses both.',
    },
    power_off: { type: 'boolean', description: 'Power off instead of rebooting when the install finishes (`install.poweroff`).' },
    iso_url: {
      type: 'string',
      enum: ['local'],
      description:
        "`local` (Harvester v1.9 and later, a node with `medium: iso`): the installer takes the Harvester ISO's content from the device labelled `COS_LIVE`, the Harvester ISO the node's BMC mounts in a second virtual media slot (`bmc/<hostname>.sh media-boot`), instead of downloading `harvester.iso_url` (`install.iso_url: local`; docs/install-without-pxe.md, \"The Harvester ISO from the BMC\"). The site's ISO URL is `harvester.iso_url`.",
    },
  },
  { title: 'InstallInput' },
);

const bond = {
  title: 'BondInput',
  type: 'object',
  description:
    'Bonding options for the management interface when it has several NICs (`install.management_interface.bond_options`). Keys are kernel bonding options; Harvester defaults to `{mode: active-backup, miimon: 100}`.',
  properties: {
    mode: {
      type: 'string',
      enum: ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'],
      description: 'Bonding mode.',
    },
    miimon: { type: 'integer', minimum: 0, description: 'MII link monitoring interval in milliseconds.' },
  },
  additionalProperties: { type: ['string', 'integer'] },
};

const lab = obj(
  'Lab VM sizing for the generated libvirt domain of this node.',
  {
    memory_mib: {
      type: 'integer',
      minimum: 8192,
      maximum: 16777216,
      description:
        "Memory in MiB (default 16384). The installer's preflight check wants 64 GiB (32 GiB for testing) from v1.3 unless `boot.skipchecks` is set; below 8 GiB it does not run at all.",
    },
    vcpus: { type: 'integer', minimum: 1, maximum: 256, description: 'Virtual CPUs (default 8).' },
    disk_gib: {
      type: 'integer',
      minimum: 60,
      maximum: 1048576,
      description: 'Size of the qcow2 disk the define script creates, in GiB (default 250).',
    },
    data_disk_gib: {
      type: 'integer',
      minimum: 50,
      maximum: 1048576,
      description:
        'Size of the second qcow2 disk (the VM sees it as `/dev/vdb`) created when `install.data_disk` is set, in GiB (default 100). Set `install.data_disk: /dev/vdb` for lab VMs.',
    },
    nic_model: {
      type: 'string',
      enum: ['virtio', 'e1000e'],
      description:
        "NIC model of the lab VM (default `virtio`). Either way the NIC of the node's k-th MAC is alone on PCIe bus k, so the guest names it `enp<k>s0` (`enp1s0` for the first): use those names in `interfaces` of lab nodes.",
    },
  },
  { title: 'LabSizingInput' },
);

const hardware = obj(
  "Hardware facts of the machine, as the Harvester installer's preflight checks and disk rules see them, usually in a profile (`sites/_profiles/<name>.yaml`): harvgen checks the installer's own rules of the node's release against them at build time (docs/reference/installer-rules.md). A fact left out is not checked. Lab sites (a `lab:` section) take them from the lab domain instead.",
  {
    memory_gib: { type: 'number', minimum: 0.5, maximum: 65536, description: 'Installed memory in GiB.' },
    cpus: { type: 'integer', minimum: 1, maximum: 4096, description: 'CPU threads the installer counts (`nproc --all`).' },
    disk_gib: {
      type: 'number',
      minimum: 1,
      maximum: 1048576,
      description: 'Size of the install disk (`install.device`) in GiB (2^30 bytes).',
    },
    data_disk_gib: { type: 'number', minimum: 1, maximum: 1048576, description: 'Size of the data disk (`install.data_disk`) in GiB.' },
    nic_speed_mbps: {
      type: 'integer',
      minimum: 10,
      maximum: 1000000,
      description: 'Link speed of the management NIC in Mbit/s, as the kernel reports it (`/sys/class/net/<nic>/speed`).',
    },
    nic_driver: str(
      'Linux driver of the management NIC (e.g. `ixgbe`, `tg3`, `qlcnic`): releases known to lack or break a driver are warned about.',
      {
        pattern: '^[a-z0-9_]{1,32}$',
      },
    ),
    virtualized: { type: 'boolean', description: 'The machine is a virtual machine (`systemd-detect-virt --vm`).' },
    kvm: { type: 'boolean', description: 'Hardware virtualization is on (`/dev/kvm` exists: VT-x/AMD-V enabled in the firmware).' },
  },
  { title: 'HardwareFactsInput' },
);

const iqn = (description: string) =>
  str(`${description} Form: \`iqn.<yyyy-mm>.<reversed domain>[:<name>]\` (RFC 3720), lowercase.`, {
    pattern: '^iqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:_-]{1,200})?$',
    maxLength: 223,
  });

const cloudInit = obj(
  'cloud-init NoCloud data of a generic OS node, served as `cloud-init/<mac>/user-data`, `meta-data` and `vendor-data` (the kernel gets `ds=nocloud;s=<boot.server>/cloud-init/<mac>/;dsmode=net`). Across layers each of its keys comes whole from the strongest layer that sets it.',
  {
    user_data: {
      type: 'object',
      description:
        'user-data as a YAML map: written as a `#cloud-config` document (e.g. `users`, `ssh_authorized_keys`, `packages`, `runcmd`).',
    },
    user_data_file: str(
      'A `#cloud-config` file to serve as user-data instead (relative to the site directory and inside the repository, like secret files; at most 256 KiB; its first line must be `#cloud-config` and the rest a YAML map).',
      { minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
    ),
    vendor_data: { type: 'object', description: 'vendor-data as a YAML map, written as a `#cloud-config` document (default: empty).' },
    meta_data: {
      type: 'object',
      description: 'Extra meta-data keys (harvgen always writes `instance-id: <site>-<hostname>` and `local-hostname: <hostname>`).',
    },
  },
  { title: 'CloudInitInput' },
);

const iscsi = obj(
  'Boot this node diskless from an iSCSI target (iPXE `sanboot`), as BMI does: harvgen writes the script and the DHCP reservation; the target, its LUN and its image are yours (docs/generic-os.md, "iSCSI diskless nodes").',
  {
    server: ipv4('Address of the iSCSI target portal; inside `network.cidr`, so the node reaches it without a router.'),
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Target portal TCP port (default 3260).' },
    lun: {
      type: 'integer',
      minimum: 0,
      maximum: 255,
      description: 'LUN of the boot disk (default 1: tgt and targetcli put the first disk at LUN 1, LUN 0 being the controller).',
    },
    target: iqn('Target IQN.'),
    initiator: iqn("The node's initiator IQN, which the target's ACL admits (default `iqn.2010-04.org.ipxe:<hostname>`)."),
  },
  { required: ['server', 'target'], title: 'IscsiInput' },
);

// A BMC credential: only ever the name of an environment variable, read by the generated script
// when it runs (the build reads none and writes none).
const bmcCredential = (what: string, dflt: string) =>
  obj(
    `The environment variable the generated BMC script reads the ${what} from when it runs (default \`{ env: ${dflt} }\`). harvgen never reads it and never writes it into the tree.`,
    {
      env: {
        type: 'string',
        pattern: '^[A-Z_][A-Z0-9_]{0,63}$',
        description: 'Name of the environment variable: upper-case letters, digits and `_`, not starting with a digit.',
      },
    },
    { required: ['env'] },
  );

const bmc = obj(
  'The node\'s BMC, for the generated scripts `bmc/<hostname>.sh` (boot from the network once, UEFI HTTP boot once, power cycle, power status, virtual media) and `bmc/all.sh` (docs/day-2.md, "BMC scripts"). Maps merge key by key, so `defaults:` or a profile can give `type` and the credentials and each node its `address`; a node whose merged `bmc` has no `address` has no BMC script.',
  {
    type: {
      type: 'string',
      enum: ['redfish', 'ipmi'],
      description: '`redfish` (default; HTTPS, needs `curl` and `jq`) or `ipmi` (IPMI 2.0 over LAN, `ipmitool -I lanplus`).',
    },
    address: value('bmcAddress', 'Address of the BMC (default port: 443 for Redfish, 623 for IPMI).'),
    user: bmcCredential('BMC user name', 'BMC_USER'),
    password: bmcCredential('BMC password', 'BMC_PASSWORD'),
    system: value(
      'redfishSystem',
      "Redfish only: which member of the BMC's `/redfish/v1/Systems` collection this node is (needed only when it lists several: the script refuses to guess; asked at run time).",
    ),
    insecure: {
      type: 'boolean',
      description:
        "Redfish only: do not verify the BMC's TLS certificate (curl `--insecure`; default false). Most BMCs ship a self-signed certificate: prefer installing a trusted one.",
    },
  },
  { title: 'BmcInput' },
);

// Settings a node may carry and that `defaults` may supply.
const nodeSettings = {
  os: str(
    'What the node boots: `harvester` (default: the Harvester installer) or the name of an entry of `os_profiles` (a generic OS: kernel, initrds, parameters, cloud-init). Harvester-only settings and rules do not apply to generic nodes.',
    { pattern: '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$' },
  ),
  cloud_init: cloudInit,
  arch: {
    type: 'string',
    enum: ['x86_64', 'arm64'],
    description:
      "CPU architecture of the machine (default `x86_64`). `arm64` machines get the arm64 iPXE (`boot.arm64_loader`, DHCP client architecture 11, HTTP boot architecture 19) and, for Harvester (v1.3 and later), the release's `-arm64` files; an OS profile's URLs must be for the node's architecture.",
  },
  iscsi,
  hardware,
  bmc,
  harvester_version: str(
    "The node's own Harvester release, to roll one node forward (default: `harvester.version`). Its release files are found by putting this release in place of the site's in `harvester.artifacts` (and `harvester.iso_url`), which must therefore name the site's release.",
    { pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+(-rc[0-9]+)?$', maxLength: 32 },
  ),
  profile: str(
    'Name of a hardware profile, `sites/_profiles/<name>.yaml`, whose settings apply under this layer (docs/inventory.md, "Layers and profiles").',
    { pattern: '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$' },
  ),
  harvester_role: {
    type: 'string',
    enum: ['default', 'management', 'worker', 'witness'],
    description: 'Harvester node role (`install.role`, Harvester v1.3+). `default` lets Harvester promote the node.',
  },
  install: installSettings,
  interfaces: {
    type: 'array',
    minItems: 1,
    items: nic,
    description: "NICs that form the management interface (bonded when more than one). Default: the node's boot MACs.",
  },
  method: {
    type: 'string',
    enum: ['dhcp', 'static'],
    description:
      'How the management interface gets its address on the installed system: `dhcp` (default; combine with `ip` for a DHCP reservation) or `static` (needs `ip`, a prefix/netmask, gateway and DNS).',
  },
  prefix: {
    type: 'integer',
    minimum: 1,
    maximum: 32,
    description: 'Prefix length of a static address. Default: the prefix of `network.cidr`.',
  },
  netmask: ipv4('Netmask of a static address, e.g. `255.255.255.0`; alternative to `prefix`.'),
  gateway: ipv4('Default gateway of a static address. Default: `network.gateway`.'),
  dns: strList('DNS servers of a static address (at most 8). Default: `network.dns`.', { maxItems: 8 }),
  mtu: {
    type: 'integer',
    description: 'MTU of the management interface (576-9000 when `method` is static; the installer checks no other).',
  },
  vlan: {
    type: 'integer',
    description:
      "VLAN ID of the management network (1-4094); untagged when absent. The installer brings it up on the NIC that booted (`vlan=vlan<id>:<nic>`), with the node's address or DHCP on the VLAN alone, and the installed system tags it (`vlan_id`).",
  },
  bond,
  kernel_args: {
    type: 'array',
    items: value('kernelArg', 'One kernel argument.'),
    description: "Extra kernel arguments for this node's installer boot, appended after `boot.kernel_args`.",
  },
  config: {
    type: 'object',
    description:
      "Extra Harvester configuration keys, deep-merged over what harvgen generates (node over defaults). Validated against the installer's schema for `harvester.version`: unknown keys and wrong types are errors.",
  },
  state: {
    type: 'string',
    enum: ['install', 'local', 'install-once'],
    description:
      "`install` (default): the node's iPXE script boots the Harvester installer on every network boot. `local`: the script boots the local disk, so an installed node never reinstalls even if it network-boots first. `install-once`: the script boots the local disk when it holds an installed system (BIOS: a bootable first sector; UEFI: `boot.installed_marker` on a FAT volume) and installs only when it does not.",
  },
  medium: {
    type: 'string',
    enum: Object.keys(MEDIA),
    description: `How the machine reaches its boot script: ${Object.values(MEDIA)
      .map((m) => `\`${m.name}\`: ${m.description}`)
      .join(
        '; ',
      )}. A medium with an image sets the node's static address on its boot NIC, with no DHCP, and fetches the node's boot files from \`boot.server\` over HTTP; it needs \`method: static\`, \`ip\` and \`boot.media_loaders\` (docs/install-without-pxe.md).`,
  },
  medium_image: {
    type: 'string',
    enum: ['shared', 'own'],
    description:
      'Which image of its medium the node boots (`medium: iso` or `usb`): `shared` (default), the site\'s one image of that medium, which carries the table of every node that shares it (boot MAC, address, netmask, gateway, DNS) and finds its node by the MAC of a NIC; `own`, an image of the node alone (`media/<hostname>.<ext>`), for a node whose BMC must not learn the other nodes\' addresses (docs/install-without-pxe.md, "One image for many nodes").',
  },
  reinstall: {
    type: 'integer',
    minimum: 0,
    maximum: 999999999,
    description:
      'Reinstall generation of a Harvester node with `state: install-once` (UEFI only). The installed system gets a marker of its site, hostname and generation on its EFI system partition (`os.after_install_chroot_commands`), and the node\'s script boots the disk only when it finds the marker of this number: raise it by one to reinstall the node exactly once (docs/day-2.md, "Reinstall a node").',
  },
  lab,
};

const node = {
  title: 'NodeInput',
  type: 'object',
  description: 'One Harvester node.',
  additionalProperties: false,
  properties: {
    hostname: str(
      'Node hostname: a lowercase DNS-1123 label (a-z, 0-9, `-`, at most 63 characters). Also names its files. In `nodes/<name>.yaml` it defaults to the file name.',
    ),
    mac: str('Boot MAC address of the node, in any common spelling. Use `macs` for several NICs.'),
    macs: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      items: { type: 'string' },
      description: 'All MAC addresses the node may PXE boot from; each gets its own iPXE script and DHCP reservation.',
    },
    ip: ipv4(
      'Address of the node on the management network. Used as the DHCP reservation and, with `method: static`, as the static address.',
    ),
    ip6: ipv6(
      "IPv6 address of the node inside `network.ipv6.prefix`, in canonical form. Its DHCPv6 reservation (by MAC) is the /126 block that holds it, one address for each boot stage (firmware, iPXE, the OS), and nginx serves the node's files to that block; nodes' blocks must not overlap (docs/ipv6.md). Generic OS nodes only.",
    ),
    role: {
      type: 'string',
      enum: ['create', 'join'],
      description:
        '`create` for the node that creates the cluster (exactly one per site; default: the first node; none once `cluster.created` is true), `join` for the others.',
    },
    ...nodeSettings,
  },
};

/** The IPv4 keys of `network:`: all four, or none on an IPv6-only network. */
const IPV4_NETWORK = {
  cidr: str('Network in CIDR form, e.g. `192.168.122.0/24`.'),
  gateway: ipv4('Default gateway; sent as DHCP option `router` (Harvester needs a default route).'),
  dns: strList('DNS servers handed out by DHCP and used for static nodes (1 to 8: DHCP option 6 holds 63 at most, the installer a few).', {
    minItems: 1,
    maxItems: 8,
  }),
  dhcp_range: str(
    'Dynamic DHCP pool `first-last`, e.g. `192.168.122.100-192.168.122.200`. Needed where a machine leases an address: a network-booting node without `ip`, any node on a VLAN (its firmware boots on this network), and `boot.unknown: join`. Without it the DHCP server answers reserved addresses only, and unknown machines get none; a site whose nodes all boot from a medium needs no pool.',
  ),
};

const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harvgen.dev/schema/site.schema.json',
  title: 'SiteInput',
  description:
    'One Harvester cluster at one location: `sites/<site>/site.yaml`, optionally with one file per node in `sites/<site>/nodes/*.yaml`.',
  type: 'object',
  additionalProperties: false,
  required: ['site', 'boot', 'network'],
  properties: {
    $schema: str('Editor hint; ignored by harvgen.'),
    site: str('Site name: lowercase letters, digits, `_` and `-` (it names the output directory `out/<site>/`).', {
      pattern: '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$',
    }),
    description: str('Free text for humans.'),
    harvester: obj(
      'Which Harvester release to install and where its boot artifacts are served. Required when any node installs Harvester; a site of only generic OS and iSCSI nodes has none.',
      {
        version: str('Harvester release, e.g. `v1.4.1`. Decides which config keys and boot modes are allowed.', {
          pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+(-rc[0-9]+)?$',
          maxLength: 32,
        }),
        artifacts: value(
          'artifactsUrl',
          'Base URL under which the release files `harvester-<version>-{vmlinuz,initrd}-amd64`, `-rootfs-amd64.squashfs` and `-amd64.iso` are served. `artifacts/fetch.sh` downloads them.',
        ),
        iso_url: value('isoUrl', 'Override for `install.iso_url` (default: the ISO under `artifacts`).'),
        upgrade: obj(
          "An upgrade of the cluster from `version` to `to` (docs/upgrade.md): the tree gets Harvester's `Version` manifest (`upgrade/version.yaml`, its ISO on this site's boot server or mirror), and with `apply` the `Upgrade` manifest and a script that applies both; the target release's files are served (and fetched, published) beside the current ones. `check` refuses a hop Harvester refuses, and nodes that would block or be left behind. Once the upgrade has run, say `done: true`: nodes then install and join with `to`.",
          {
            to: str(
              'The release to upgrade to, e.g. `v1.9.0`: newer than `version`, with `version` at least its minimum upgradable release.',
              {
                pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+(-rc[0-9]+)?$',
                maxLength: 32,
              },
            ),
            iso_checksum: str(
              "SHA-512 of the target's ISO for the cluster's architecture (its create node's), 128 lower-case hex digits: its line in the release's `harvester-<to>-amd64.sha512` (`-arm64.sha512` for an arm64 cluster; Harvester refuses any other form).",
              { pattern: '^[a-f0-9]{128}$' },
            ),
            release_date: str(
              "The target's release date as `YYYYMMDD` (the `Version`'s `releaseDate`, shown in Harvester's UI). Optional.",
              {
                pattern: '^[0-9]{8}$',
              },
            ),
            apply: {
              type: 'boolean',
              description:
                'Also write the `Upgrade` manifest (`upgrade/upgrade.yaml`) and `upgrade/apply.sh`, which applies both with the kubeconfig in `KUBECONFIG` (never in the tree). Default false: apply `upgrade/version.yaml` yourself and start the upgrade from the UI.',
            },
            done: {
              type: 'boolean',
              description:
                'The upgrade has run: nodes installed or joined from now on get the `to` release (its config and files), and no manifests are written. Default false.',
            },
          },
          { required: ['to', 'iso_checksum'] },
        ),
      },
      { required: ['version', 'artifacts'] },
    ),
    boot: obj(
      'How machines network-boot.',
      {
        server: value(
          'serverUrl',
          'Base URL the generated tree is served at (iPXE and UEFI HTTP boot do not follow redirects; plain http avoids TLS trouble in the boot chain).',
        ),
        firmware: {
          type: 'string',
          enum: ['uefi', 'bios'],
          description: 'Firmware of the machines: `uefi` (default) or `bios`. BIOS is refused for Harvester v1.8+.',
        },
        uefi_loader: {
          type: 'string',
          enum: ['ipxe.efi', 'snponly.efi'],
          description:
            "iPXE binary that UEFI firmware chainloads over TFTP: `snponly.efi` (default; the firmware's network stack, and it returns to the firmware on `exit`, which local disks and unknown machines use) or `ipxe.efi` (iPXE's own NIC drivers, which take the NIC from the firmware: some firmware never gets control back on `exit`, `BOOT_EXIT_MAY_HANG`).",
        },
        arm64_loader: {
          type: 'string',
          enum: ['ipxe-arm64.efi', 'snp.efi'],
          description:
            "iPXE binary arm64 UEFI firmware chainloads (TFTP, or HTTP with `http_boot`), under this name in the TFTP root and the tree: `ipxe-arm64.efi` (default; iPXE's `bin-arm64-efi/ipxe.efi`) or `snp.efi` (`bin-arm64-efi/snp.efi`, the firmware's network stack). Only used when a node has `arch: arm64`.",
        },
        console: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'string',
            pattern: CONSOLE_PATTERN,
            description:
              'One kernel console, e.g. `tty1` or `ttyS0,115200n8`. In a flow list quote entries with a comma (`[tty1, "ttyS0,115200n8"]`): unquoted, YAML splits them at the comma.',
          },
          description:
            'Kernel consoles for the installer, e.g. `[tty1]` or `[tty1, "ttyS0,115200n8"]` (the last is primary). Default `[tty1]`.',
        },
        kernel_args: {
          type: 'array',
          items: value('kernelArg', 'One kernel argument.'),
          description:
            'Extra kernel arguments for every node (e.g. `nomodeset`). Arguments harvgen writes itself (`ip=`, `BOOTIF=`, `vlan=`, `ifname=`, `nameserver=`, `root=`, `initrd=`, `rd.net.dhcp.retry=`, `harvester.install.*`) are refused: set the inventory field instead.',
        },
        skipchecks: {
          type: 'boolean',
          description:
            "Add `harvester.install.skipchecks=true`: the installer's preflight checks (v1.3+: CPU threads, memory, NIC speed, virtual machine, /dev/kvm; v1.7's legacy BIOS check) and, from v1.8, its disk and partition minimums warn instead of stopping the install (needed for lab VMs). v1.2 has no such checks. Default false.",
        },
        report: {
          type: 'boolean',
          description:
            "Nodes report what they do to the boot server, which only logs it (nginx answers 200 with an empty body), for `harvgen status` and `harvgen discover`: each Harvester config sends the installer's events (`install.webhooks`: STARTED, SUCCEEDED, FAILED, to `harvgen-events/<hostname>/<EVENT>`), and `unknown.ipxe` (`unknown: wait`) reports what iPXE knows of an unknown machine (MAC, SMBIOS UUID, serial, manufacturer, product) to `harvgen-discover`. Default true.",
        },
        retries: {
          type: 'integer',
          minimum: 1,
          maximum: 20,
          description:
            'How many times the iPXE scripts try a failed fetch before giving up (default 3), the same on BIOS and UEFI. A node\'s script that gives up returns to the firmware, whose next step is its own: a firmware may go on to its next boot entry, or start network boot again (then the tries start over, which looks like retrying without end). From a boot medium the script never gives up (docs/install-without-pxe.md, "Retries").',
        },
        retry_delay: { type: 'integer', minimum: 1, maximum: 300, description: 'Seconds between iPXE fetch attempts (default 5).' },
        unknown_wait: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          description:
            'Seconds a machine that gets no install waits in iPXE before it returns to the firmware (default 60): an unknown machine under `unknown: wait`, a machine of another arch under `unknown: join`, and the plain-name stub of a keyed site (`nginx.file_key`). The pause keeps such a machine from looping tightly through network boot.',
        },
        unknown: {
          type: 'string',
          enum: ['wait', 'local', 'join'],
          description:
            'What a machine whose MAC is in no node gets (`unknown.ipxe`): `wait` (default) prints its MAC, waits and returns to the firmware, installing nothing; `local` boots its local disk; `join` installs Harvester on it as a joining node with a generated config (`unknown/join.yaml`) unless its disk already holds an installed system. `join` wipes `defaults.install.device` of any machine that network-boots on this segment: see docs/day-2.md, "Unknown machines".',
        },
        installed_marker: obj(
          "How an `install-once` node (and an unknown machine under `unknown: join`) recognises an installed system on UEFI: a file on a FAT volume with this label. Default: Harvester's EFI partition, `COS_GRUB`, and its boot loader `/EFI/BOOT/bootx64.efi`.",
          {
            volume: value('fatLabel', 'FAT volume label of the EFI system partition the installed system creates (default `COS_GRUB`).'),
            file: value(
              'volumePath',
              'File on that volume that only an installed system has (default `/EFI/BOOT/bootx64.efi`; FAT ignores case).',
            ),
          },
        ),
        http_boot: {
          type: 'boolean',
          description:
            'Answer UEFI HTTP boot clients (DHCP vendor class `HTTPClient`, x86-64 UEFI) in the generated dnsmasq and libvirt network: option 60 echoed, boot file `<boot.server>/<uefi_loader>` (or the Secure Boot shim), served by the generated nginx. No TFTP needed for those clients. Default false.',
        },
        ipxe_binaries: str(
          "Directory on the build machine to copy the iPXE binaries from into the tree's root (e.g. `/usr/lib/ipxe`, Debian's `ipxe` package; relative paths are relative to the site directory): the UEFI loader (`uefi_loader`) on UEFI sites, `undionly.kpxe` on BIOS sites, and the Secure Boot files, which must exist; the other standard binaries when present. nginx serves them (UEFI HTTP boot); the same tree can be a TFTP root.",
          { minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        ),
        media_loaders: str(
          "Directory on the build machine holding the boot programs of the boot media (`medium: iso` or `usb`). A relative path is relative to the site directory (the one with `site.yaml`), also when it is written in `sites/_defaults.yaml` or a profile. By fixed names: `isolinux.bin` and `ldlinux.c32` (Debian's `isolinux` and `syslinux-common`), `ipxe.lkrn` and `ipxe.efi` (Debian 13's `ipxe`: an `ipxe.efi` that runs `autoexec.ipxe` from its medium; Debian 12's does not), and for USB images `isohdpfx.bin` (Debian's `isolinux`). They are copied unmodified into every image (docs/install-without-pxe.md).",
          { minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        ),
        secure_boot: obj(
          'Boot UEFI machines with Secure Boot on: the firmware loads a signed shim (TFTP or HTTP), which loads the signed iPXE stored next to it under the name the shim was built to load; the node scripts then hand the distribution-signed kernel to its own shim (iPXE\'s `shim` command: the release\'s SUSE shim, which fetch.sh takes out of the ISO). harvgen cannot sign anything: the site provides the shim and iPXE (docs/boot-modes.md, "Secure Boot"). Lab domains get Secure Boot on.',
          {
            shim: value(
              'efiFileName',
              "File name of the signed shim the firmware loads (default `<uefi_loader>-shimx64.efi`, iPXE's signed shim, which loads the file its name starts with).",
            ),
            loader: value(
              'efiFileName',
              "File name the shim loads next: the site's signed iPXE stored under that name (default: `uefi_loader`, what iPXE's shim loads; a distribution's shim loads `grubx64.efi`, SUSE's `grub.efi`).",
            ),
          },
        ),
        dhcp_retry: {
          type: 'integer',
          minimum: 1,
          maximum: 100,
          description:
            "How often the installer's initrd retries DHCP on the boot NIC (`rd.net.dhcp.retry=<n>`; dracut's default is 1). Raise it where switch ports come up slowly (spanning tree).",
        },
      },
      { required: ['server'] },
    ),
    network: obj(
      'The management network the nodes boot and live on.',
      {
        ...IPV4_NETWORK,
        domain: value('dnsName', 'Optional DNS domain handed out by DHCP.'),
        ipv6: obj(
          'IPv6 on this network: DHCPv6 and router advertisements from the generated dnsmasq (Kea: DHCPv6 only), nginx listening on IPv6 and per-node access by IPv6 address. Generic OS nodes boot over IPv6 (UEFI PXE or iPXE over IPv6, then HTTP); Harvester nodes install over IPv4 only (the installer config has no IPv6 fields). Without `cidr`, the network is IPv6-only (docs/ipv6.md).',
          {
            prefix: str(
              "The network's IPv6 prefix, e.g. `fd00:10::/64`: the address in canonical form (lower case, shortest), a length of 64 to 120.",
              {
                pattern: `^${IPV6_CHARS}/[0-9]{1,3}$`,
              },
            ),
            dhcp_range: str('DHCPv6 pool `first-last` inside `prefix`, e.g. `fd00:10::1000-fd00:10::1fff`.', {
              pattern: `^${IPV6_CHARS}-${IPV6_CHARS}$`,
            }),
            dns: {
              type: 'array',
              items: { type: 'string', pattern: `^${IPV6_CHARS}$` },
              minItems: 1,
              maxItems: 8,
              description: 'DNS servers handed out by DHCPv6 (IPv6 addresses, 1 to 8).',
            },
            server: ipv6(
              "The boot server's IPv6 address on this network, where firmware fetches iPXE over TFTP and iPXE its first script over HTTP (`tftp://[<server>]/...`, `http://[<server>]/boot.ipxe`). Default: the host of `boot.server` when it is an IPv6 address; needed otherwise.",
            ),
          },
          { required: ['prefix', 'dhcp_range'] },
        ),
        vlans: {
          type: 'array',
          maxItems: 64,
          description:
            "Tagged VLANs the boot server serves beside this network (docs/vlan.md): each a DHCP scope of its own (dnsmasq, Kea or ISC dhcpd on the VLAN's interface) and an address of the boot server on it. Machines PXE-boot on this (untagged, native) network; a Harvester node whose `vlan` names one of these installs on it: its installer tags the VLAN, takes its address there (`ip` inside the VLAN's `cidr`, reserved by MAC in the VLAN's scope) and fetches its live root and config from the VLAN's `server`. With `vlans`, every node's `vlan` must name one of them.",
          items: obj(
            'One tagged VLAN and its DHCP scope.',
            {
              id: {
                type: 'integer',
                minimum: 2,
                maximum: 4094,
                description: 'VLAN ID (2-4094), as the switch tags it; a node joins it with `vlan: <id>`.',
              },
              cidr: str('Network of the VLAN in CIDR form, e.g. `10.100.0.0/24`; the addresses of the nodes on it (`ip`).'),
              gateway: ipv4('Default gateway on the VLAN; sent as DHCP option `router`, and the default `gateway` of its nodes.'),
              server: ipv4(
                "The boot server's address on the VLAN (its interface `interface` holds it): the installer's initrd fetches the live root and the node's config from `boot.server` with this host, and nginx listens there.",
              ),
              interface: value(
                'ifname',
                "The boot server's interface on the VLAN, e.g. `eth0.100`: the DHCP scope answers there (dnsmasq `interface=`, Kea's subnet `interface`).",
              ),
              dhcp_range: str('Dynamic pool `first-last` inside `cidr`; without it the scope gives the reserved addresses only.'),
              dns: strList('DNS servers handed out on the VLAN and used by its static nodes (1 to 8). Default: `network.dns`.', {
                minItems: 1,
                maxItems: 8,
              }),
            },
            { required: ['id', 'cidr', 'gateway', 'server', 'interface'] },
          ),
        },
        dhcp_servers: {
          type: 'string',
          enum: ['one', 'several'],
          description:
            "`one` (default) or `several`: more than one DHCP server answers on this network (a second site's, a router's). Then the initrd of each Harvester node's installer (which fetches the live root and the config) takes the node's address from its kernel line (the static `ip=` form, with the node's `ip`) instead of asking DHCP, where NetworkManager may take another server's answer, or keep a second address after the switch to the installer's root. The installer then sets up the management network as `method` says: prefer `method: static` on such a network. Every Harvester node needs an `ip`.",
        },
      },
      {
        // IPv4 is `cidr`, `gateway` and `dns` (and a pool, `dhcp_range`, where a machine leases
        // an address: NET_DHCP_RANGE_REQUIRED), or (on an IPv6-only network, with `ipv6:`) none of them.
        if: { properties: { ipv6: false } },
        then: { properties: IPV4_NETWORK, required: ['cidr', 'gateway', 'dns'] },
        dependencies: {
          cidr: ['gateway', 'dns'],
          gateway: ['cidr'],
          dns: ['cidr'],
          dhcp_range: ['cidr'],
        },
      },
    ),
    cluster: obj(
      'Cluster-wide Harvester settings. Required when any node installs Harvester.',
      {
        vip: ipv4('Virtual IP of the cluster (`install.vip`); joins use `https://<vip>:443`.'),
        vip_mode: {
          type: 'string',
          enum: ['static', 'dhcp'],
          description: '`static` (default) or `dhcp` (then `vip_hw_addr` is needed so the VIP is predictable).',
        },
        vip_hw_addr: str('MAC used to request the VIP by DHCP when `vip_mode: dhcp`.'),
        token: secret(
          "Cluster token shared by all nodes: printable ASCII only (the installer's rule). Written only into the per-node config files, never onto a kernel command line.",
        ),
        password: secret(
          'Password of the `rancher` user: plain text (harvgen writes a SHA-512 crypt hash, never the plain text) or a full crypt hash (`$6$...`, `$5$...`, `$1$...`; `harvgen hash-password` makes one).',
        ),
        ssh_authorized_keys: strList('SSH public keys (or `github:<user>`) for the `rancher` user.'),
        ntp: strList('NTP servers (`os.ntp_servers`).'),
        pod_cidr: str('Pod network CIDR (`install.cluster_pod_cidr`, Harvester v1.5+; default 10.52.0.0/16).'),
        service_cidr: str('Service network CIDR (`install.cluster_service_cidr`, Harvester v1.5+; default 10.53.0.0/16).'),
        cluster_dns: ipv4('Cluster DNS service IP, inside `service_cidr` (`install.cluster_dns`, Harvester v1.5+; default 10.53.0.10).'),
        sans: strList('Extra TLS subject alternative names for the cluster (`sans`, Harvester v1.6+).'),
        created: {
          type: 'boolean',
          description:
            'The cluster exists (its create node has installed). From then on every node, the former create node included, installs as a joining node to `https://<vip>:443`, so reinstalling a node never makes a second cluster; `role: create` is then refused. Default false.',
        },
      },
      { required: ['vip', 'token'] },
    ),
    os_profiles: {
      type: 'object',
      description: 'Named generic OS boot profiles, reused by the nodes that say `os: <name>` (a Rancher host, a jump box, storage nodes).',
      propertyNames: { pattern: '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$' },
      additionalProperties: obj(
        'A generic OS: what iPXE loads and the kernel command line.',
        {
          kernel: value('artifactsUrl', 'URL of the kernel (on the boot server or elsewhere).'),
          shim: value(
            'artifactsUrl',
            "With `boot.secure_boot`: URL of the distribution's signed shim, which iPXE's `shim` command hands the kernel to (the shim that trusts the kernel's signer, e.g. the distribution's `shimx64.efi`).",
          ),
          initrds: {
            type: 'array',
            minItems: 1,
            maxItems: 8,
            items: value('artifactsUrl', 'URL of an initrd.'),
            description: 'URLs of the initrd(s), loaded in order.',
          },
          params: {
            type: 'array',
            items: value('kernelArg', 'One kernel parameter.'),
            description: 'Kernel parameters, e.g. `[console=ttyS0,115200, ip=dhcp, ro]`.',
          },
          root: value(
            'kernelArgValue',
            'The root file system, written as `root=<value>`: `live:http://.../rootfs.squashfs` (dracut live image), `nfs:<server>:/<path>`, `/dev/...`.',
          ),
          cloud_init: {
            type: 'boolean',
            description:
              'Serve the nodes a config (the format `config_format` names) and point their command line at it (default true). `false`: none, and no `config_format`.',
          },
          config_format: {
            type: 'string',
            enum: CONFIG_FORMATS.filter((f) => f.osFiles !== undefined).map((f) => f.name),
            description: `The config format the nodes are served (default \`nocloud\`): ${CONFIG_FORMATS.filter(
              (f) => f.osFiles !== undefined,
            )
              .map((f) => `\`${f.name}\`, the ${f.title} (${f.kernelArg('<url>')})`)
              .join('; ')}.`,
          },
        },
        {
          required: ['kernel', 'initrds'],
          title: 'OsProfileInput',
          // `cloud_init: false` serves nothing: a format named beside it would be ignored.
          if: { required: ['cloud_init'], properties: { cloud_init: { const: false } } },
          then: {
            properties: {
              config_format: {
                not: {},
                description: '`cloud_init: false` serves the nodes no config: remove `config_format`, or `cloud_init: false`.',
              },
            },
          },
        },
      ),
    },
    defaults: obj(
      'Settings applied to every node unless the node sets them itself (maps are merged key by key, everything else is replaced).',
      nodeSettings,
      { title: 'NodeDefaults' },
    ),
    nodes: {
      type: 'array',
      items: node,
      description: 'The nodes of the cluster. More nodes may live in `nodes/*.yaml`, one node per file.',
    },
    lab: obj('libvirt lab settings (the generated network and domain XML).', {
      network_name: str(
        'libvirt network name (default `harvgen-<site>` with `_` turned into `-`): 1-50 letters, digits and `_ . -`, not starting with `.` or `-`.',
        { pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$' },
      ),
      bridge: str(
        'Linux bridge the lab network creates (default `hg-<site>`): 1-15 letters, digits and `_ . -`, not starting with `.` or `-`.',
        { pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$' },
      ),
      disk_dir: value('path', 'Directory for the lab VM disks (default `/var/lib/libvirt/images`).'),
      tftp_root: value('path', 'TFTP root of the lab network holding `snponly.efi`/`undionly.kpxe` (default `/var/lib/tftpboot`).'),
      host_arch: {
        type: 'string',
        enum: ['x86_64', 'arm64'],
        description:
          "Architecture of the libvirt host that runs the lab domains (default `x86_64`). A node of another `arch` gets an emulated domain (`type='qemu'`, CPU model `maximum`) instead of KVM, so arm64 nodes run on an x86-64 host (slowly).",
      },
    }),
    nginx: obj('The generated nginx server block.', {
      listen: value(
        'listen',
        'Where nginx listens (default: the address and port of `boot.server` when its host is an IPv4 address, else all addresses on its port).',
      ),
      root: value('path', 'Directory on the web server the tree `out/<site>/` is copied to (default `/srv/harvgen/<site>`).'),
      artifacts_dir: value(
        'path',
        'Directory on the web server holding the release files, served under the path of `harvester.artifacts` when that URL is on `boot.server` (default `/srv/harvgen/artifacts/<version>`).',
      ),
      access_log: value('path', 'Access log path (default `/var/log/nginx/harvgen-<site>.access.log`).'),
      access: {
        type: 'string',
        enum: ['nodes', 'open'],
        description:
          'Who may fetch the files that hold a secret or one node\'s data (Harvester configs, cloud-init seeds, `unknown/join.yaml`). `nodes` (default): only the node\'s own `ip` (a node without one: the DHCP pool; unknown machines: the DHCP pool), everyone else gets 403. `open`: every client, for a boot server behind something that already restricts who reaches it; but the config and seed of a node that boots from an image (`medium: iso`, `usb`) stay served to its own `ip` only, since the image, which a BMC fetches, names them. docs/security.md, "Threat model".',
      },
      file_key: secret(
        'A secret that makes the names of the files holding a secret or one node\'s data unguessable: each known node\'s iPXE scripts, Harvester config and cloud-init seed get a name with a tag keyed by it (HMAC-SHA256), and DHCP hands each boot MAC the URL of its own script. At least 32 characters (`openssl rand -hex 32`). The committed tree shows `x` in place of each tag; only the deploy tree (`--deploy`) reads the key. docs/security.md, "Threat model".',
      ),
      verify_from: {
        type: 'array',
        minItems: 1,
        maxItems: 64,
        uniqueItems: true,
        items: str('Address or CIDR block of a host that runs `harvgen verify` (IPv4, e.g. `10.0.0.9` or `10.0.0.0/28`).', {
          pattern: CIDR_PATTERN,
        }),
        description:
          "Hosts besides the boot server(s) that may read every file that holds a secret or one node's data, so that `harvgen verify` run there checks each node's files too (their bytes could drift unseen otherwise). The boot server itself may always: loopback, `boot.server`'s address and, with `failover:`, each server's own address (the files are on its disk anyway). Give only hosts trusted with the deploy tree.",
      },
      real_ip: obj(
        "A proxy or NAT in front of nginx: the client address nginx checks is taken from `header`, for requests from `from` (nginx's realip module, `set_real_ip_from`/`real_ip_header`). Without it, every client behind the proxy looks like the proxy.",
        {
          from: {
            type: 'array',
            minItems: 1,
            maxItems: 64,
            uniqueItems: true,
            items: str('Address or CIDR block of the proxy (IPv4, e.g. `10.0.0.2` or `10.0.0.0/28`).', { pattern: CIDR_PATTERN }),
            description: 'Addresses or CIDR blocks of the proxies whose header nginx trusts.',
          },
          header: str('Request header holding the client address, e.g. `X-Forwarded-For` or `X-Real-IP`.', {
            pattern: '^[A-Za-z][A-Za-z0-9-]{0,63}$',
          }),
        },
        { required: ['from', 'header'] },
      ),
    }),
    dnsmasq: obj('The generated dnsmasq configuration.', {
      interface: value('ifnameGlob', 'Only serve DHCP on this interface (`interface=`).'),
      tftp_root: value('path', 'TFTP root holding the iPXE binaries (default `/var/lib/tftpboot`).'),
      lease_time: str('DHCP lease time, e.g. `12h` (default).', { pattern: '^([0-9]+[smhdw]?|infinite)$' }),
      dns: {
        type: 'boolean',
        description: "Leave dnsmasq's DNS server on (default true). Set false (`port=0`) when another DNS server runs on the host.",
      },
      host: str(
        'The machine this site\'s dnsmasq runs on, as a name (e.g. `boot1`), when it serves several sites. Sites built together that name the same host share one dnsmasq: each adds its own `dnsmasq/harvgen.conf`, their `dnsmasq/global.conf` must be the same file, and their networks apart (`SITE_DNSMASQ_CONFLICT`). Default: none (a dnsmasq of its own). docs/deploy.md, "DHCP with dnsmasq".',
        { minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' },
      ),
      hosts_dir: value(
        'path',
        'Directory on the DHCP host that holds the reservation files of `dnsmasq/hosts/` (`dhcp-hostsdir=`; default `/etc/harvgen/dhcp-hosts`): dnsmasq reads a new or changed file there without a restart.',
      ),
      mode: {
        type: 'string',
        enum: ['server', 'proxy'],
        description:
          '`server` (default): this dnsmasq is the network\'s DHCP server (addresses, reservations, boot files). `proxy`: another DHCP server gives the addresses and this dnsmasq answers only network boot (proxy DHCP, `dhcp-range=<network>,proxy`): PXE firmware gets iPXE over TFTP (`pxe-service=`), iPXE gets `boot.ipxe`. Reserve the nodes\' `ip` on that other server (`NODE_IP_NOT_RESERVED`); `network.dhcp_range` is its pool. docs/deploy.md, "Proxy DHCP beside another server".',
      },
    }),
    dhcp: obj('Which DHCP server the site uses; harvgen writes its configuration (docs/deploy.md, "Choosing a DHCP form").', {
      server: {
        type: 'string',
        enum: Object.keys(DHCP_SERVERS),
        description: `${Object.values(DHCP_SERVERS)
          .map((s) => `\`${s.name}\`${s.name === BUILTIN_DEFAULTS.dhcp.server ? ' (default)' : ''}: ${s.description}`)
          .join('. ')}. A server that is not its own TFTP server (${Object.values(DHCP_SERVERS)
          .filter((s) => !s.tftp)
          .map((s) => `\`${s.name}\``)
          .join(', ')}) gets no dnsmasq file: TFTP (iPXE for firmware PXE) is served by a TFTP server of yours at \`next_server\`.`,
      },
      next_server: ipv4(
        'With `kea` or `isc`: the TFTP server firmware PXE loads iPXE from (`next-server`, the siaddr field). Default: the host of `boot.server` when it is an address.',
      ),
    }),
    bss: obj("OpenCHAMI's Boot Script Service (BSS): export the nodes it can boot as harvgen's tree does.", {
      export: {
        type: 'boolean',
        description:
          'Write `bss/bootparameters.json`, one BSS BootParams per node that BSS can boot as the tree does (a node with several boot MACs leaves `BOOTIF=` to BSS; `BSS_NODE_NOT_EXPORTED` names the nodes left out). Default false.',
      },
    }),
    metal3: obj(
      'Metal3 (baremetal-operator and Ironic): a `BareMetalHost` per node with a BMC, to install through Metal3 what this inventory describes. docs/metal3.md.',
      {
        export: {
          type: 'boolean',
          description:
            "Write `metal3/<hostname>.yaml`, one `BareMetalHost` per node with a BMC (its BMC in Ironic's URL form, boot MAC, boot mode, a credentials Secret by name only, root device hint from the install disk, and the node's boot ISO as a `live-iso` image with its SHA-256), and `metal3/kustomization.yaml` listing them. `METAL3_NODE_NOT_EXPORTED` names the nodes left out; `METAL3_HOST_INVALID` what baremetal-operator would refuse. Default false.",
        },
        namespace: str('The namespace of the `BareMetalHost` objects and of their credentials Secrets (default `metal3`).', {
          pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
        }),
      },
    ),
    failover: obj(
      "Two boot servers for the site (docs/failover.md): both serve the same tree; keepalived (VRRP) holds `boot.server`'s address, the shared address, on one that can install a node, and DHCP fails over with them (Kea's high-availability hook in hot-standby, or two dnsmasq with the same reservations and halves of the pool); each server's DHCP sends nodes to its own address, and their scripts move on to the other server when one fails. harvgen writes `failover/<server>/` for each: its keepalived.conf, check.sh and notify.sh, and its DHCP config.",
      {
        interface: value(
          'ifname',
          "The boot servers' interface on the nodes' network (the same name on both), where keepalived holds the shared address.",
        ),
        virtual_router_id: {
          type: 'integer',
          minimum: 1,
          maximum: 255,
          description: 'The VRRP router id (1-255), unique among the VRRP routers on that network. Default 51.',
        },
        kea_ha_port: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          description:
            "With `dhcp.server: kea`: the port each Kea listens on for its peer (the HA hook's own HTTP listener). Default 8001.",
        },
        kea_hooks_dir: value(
          'path',
          "With `dhcp.server: kea`: where the boot servers' Kea keeps its hook libraries (`libdhcp_ha.so`, `libdhcp_lease_cmds.so`). Default `/usr/lib/x86_64-linux-gnu/kea/hooks` (Debian and Ubuntu on x86-64).",
        ),
        servers: {
          type: 'array',
          minItems: 2,
          maxItems: 2,
          description:
            'The two boot servers, the first preferred (the primary): each with a name and its own address on the network. `boot.server` names the shared address, which neither holds of its own.',
          items: obj(
            'One boot server.',
            {
              name: str('Its name (lower-case letters, digits and hyphens): the directory of its files, `failover/<name>/`.', {
                pattern: '^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$',
              }),
              address: ipv4('Its own address on the network, inside `network.cidr`.'),
              mac: str(
                "The MAC address of its `failover.interface`, in colon form (`52:54:00:aa:bb:01`). With it, the other server's nftables rules (`failover/<name>/nftables.conf`) take VRRP adverts from this server only from this MAC too: a host that forges this server's address, but not its MAC, cannot take the shared address.",
                { pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' },
              ),
            },
            { required: ['name', 'address'] },
          ),
        },
      },
      { required: ['interface', 'servers'] },
    ),
    // Signed trees (docs/verify.md, "Signed trees"): the deploy build signs manifest.json with `private_key`
    // (read by deploy builds only, src/sign/key.ts), verify checks it with `public_key`.
    signing: obj(
      'Sign the deploy tree: `harvgen build --deploy` writes `manifest.json.sig` next to manifest.json (`ssh-keygen -Y sign`, namespace `harvgen-manifest`), and `harvgen verify` refuses a deploy tree whose signature does not verify. The committed tree is never signed and never reads the key. docs/verify.md, "Signed trees".',
      {
        private_key: {
          type: 'object',
          description:
            "The private key that signs (an OpenSSH private key without a passphrase, e.g. `ssh-keygen -t ed25519 -N '' -f secrets/harvgen-sign`): a secret, read by deploy builds only, never written anywhere. `{ file: path }` (relative to this YAML file, inside the repository, at most 4096 bytes; keep it out of git) or `{ env: NAME }` (an environment variable holding the key's text).",
          ...secretRef('key'),
        },
        public_key: str(
          'The public half of `private_key`, one line as in its `.pub` file: `ssh-ed25519 AAAA... comment` (or `ssh-rsa`; `ecdsa-sha2-*` keys are refused: their signatures differ at every build). No options, principal or second line. Plain data, safe to commit: verify checks the signature with it, and so can anyone (`ssh-keygen -Y verify`).',
          { pattern: PUBLIC_KEY_PATTERN, maxLength: MAX_PUBLIC_KEY },
        ),
      },
      { required: ['private_key', 'public_key'] },
    ),
    // Fleet publishing (docs/fleet.md): `harvgen publish` pushes the deploy tree to an OCI
    // registry; the boot server's `harvgen pull` (its units and pull.json are rendered from this
    // section) materializes it. The key seals the secret-bearing files (src/publish/seal.ts).
    publish: obj(
      'Publish the site through an OCI registry (`harvgen publish`) and materialize it on the boot server (`harvgen pull`, run by the generated `publish/` units). Needs `signing:`: the boot server serves nothing whose signature does not verify. docs/fleet.md.',
      {
        registry: value(
          'registry',
          "The registry and namespace the site is published under; the site's repository is `<registry>/<site>`.",
        ),
        key: {
          type: ['string', 'object'],
          minLength: 1,
          description:
            "The site's publishing key: 64 hexadecimal digits (`openssl rand -hex 32`). It seals (encrypts) every file that holds a secret before it leaves for the registry; the boot server holds the same key (`key_file`) and no other site's. Read by `harvgen publish` only. `{ file: path }` or `{ env: NAME }`; keep it out of git.",
          ...secretRef('key'),
        },
        keep: {
          type: 'integer',
          minimum: 2,
          maximum: 100,
          description:
            'How many published trees the boot server keeps for `harvgen pull --rollback` (default 5; the served one and the one before it are always kept).',
        },
        state_dir: value(
          'path',
          'Where `harvgen pull` keeps its versions and state on the boot server (default `/var/lib/harvgen/<site>`).',
        ),
        key_file: value('path', 'Where the boot server holds the publishing key (default `/etc/harvgen/<site>/publish.key`, mode 0600).'),
        mirror: value(
          'registry',
          'The registry and namespace the boot server pulls from, when it is not `registry`: the site\'s own mirror of the central registry (filled with `skopeo sync`, or a registry\'s pull-through cache). Its pull.json then names `<mirror>/<site>`; `publish` still pushes to `registry`. The boot server checks the same signatures whichever registry it reads. docs/fleet.md, "Site mirrors".',
        ),
        cosign_key: {
          type: ['string', 'object'],
          minLength: 1,
          description:
            'A cosign signing key: `publish` signs every manifest it pushes (the index, its parts, the release parts it names, the cluster side) in sigstore\'s tag scheme (`sha256-<digest>.sig`), so that `cosign verify --key`, Flux\'s `OCIRepository` (`verify.provider: cosign`), Kyverno, Harbor and podman, skopeo and CRI-O (a `sigstoreSigned` policy) can check it. An unencrypted PEM private key: Ed25519 (`openssl genpkey -algorithm ed25519 -out secrets/cosign.key`; its signatures are the same at every publish), ECDSA P-256 (`openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt -out secrets/cosign.key`) or RSA (2048 to 4096 bits). Read by `harvgen publish` only. `{ file: path }` or `{ env: NAME }`; keep it out of git. Needs `cosign_public_key`. docs/fleet.md, "Signatures other tools check".',
          ...secretRef('key'),
        },
        cosign_public_key: str(
          'The public half of `cosign_key`, as PEM (`-----BEGIN PUBLIC KEY-----` ... `-----END PUBLIC KEY-----`; `openssl pkey -in secrets/cosign.key -pubout`). Plain data, safe to commit: the tree holds it as `publish/cosign.pub`, the file `cosign verify --key` and Flux take.',
          { pattern: '^-----BEGIN PUBLIC KEY-----\\n[A-Za-z0-9+/=\\n]{40,1400}-----END PUBLIC KEY-----\\n?$', maxLength: 1500 },
        ),
      },
      { required: ['registry', 'key'], dependencies: { cosign_key: ['cosign_public_key'], cosign_public_key: ['cosign_key'] } },
    ),
    outputs: obj(
      'Which families of files the tree holds, in one place: set a family to `false` when the site does not need it (its files are then neither written nor listed in manifest.json; the boot scripts, node configs and manifest.json are always written).',
      {
        lab: {
          type: 'boolean',
          description:
            'The libvirt lab: `libvirt/network.xml`, a domain per node and `define.sh`. Default: true when the site has a `lab:` section, else false.',
        },
        forward: {
          type: 'boolean',
          description:
            'The socat units that forward ports of the host to the VIP (`systemd/`). Default: `forward.enabled` when written, else the same as `lab`.',
        },
        dhcp: {
          type: 'boolean',
          description:
            "The DHCP server's config of `dhcp.server` (`dnsmasq/`, `kea/harvgen.json` or `dhcpd/harvgen.conf`). Default true. Turn it off when no DHCP server of yours serves the segment: another team's server is configured by hand (reserve the nodes' `ip` there, and let it hand out iPXE's boot file as docs/deploy.md shows), or every node boots from a medium with no DHCP (`medium: iso` or `usb`). Nothing else changes: the scripts, configs and nginx are the same.",
        },
        nginx: {
          type: 'boolean',
          description:
            'The nginx config (`nginx/harvgen.conf` and `nginx/locations.conf`). Default true; turn it off when another web server serves the tree (it must then refuse listings and node files as the generated config does).',
        },
        embed: {
          type: 'boolean',
          description: '`embed.ipxe`, the script to build into an iPXE binary where you control no DHCP server. Default true.',
        },
        oci: { type: 'boolean', description: '`oci/launch.ipxe`, the iPXE script for Oracle Cloud bare metal. Default true.' },
        fetch: {
          type: 'boolean',
          description:
            '`artifacts/fetch.sh`, which downloads and checks the release files (written only when a node installs Harvester). Default true.',
        },
        bmc: {
          type: 'boolean',
          description: 'The BMC scripts (`bmc/<host>.sh` and `bmc/all.sh`, written only for nodes with `bmc:`). Default true.',
        },
      },
    ),
    forward: obj('socat port forwards from the host to the VIP (as systemd units), for reaching a lab cluster from outside.', {
      enabled: {
        type: 'boolean',
        description:
          'Generate the units (default: true when the site has a `lab:` section). Same as `outputs.forward`, which wins when both are written.',
      },
      ports: {
        type: 'array',
        items: { type: 'integer', minimum: 1, maximum: 65535 },
        uniqueItems: true,
        minItems: 1,
        description: 'TCP ports forwarded to the same port on the VIP (default [443, 6443]).',
      },
      listen_address: ipv4('Host address to listen on (default: all addresses).'),
    }),
  },
};

export default schema;

/** The schema of a layer file: repo-wide defaults (`sites/_defaults.yaml`) or a hardware profile (`sites/_profiles/<name>.yaml`). */
export const layerSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harvgen.dev/schema/layer.schema.json',
  title: 'LayerInput',
  type: 'object',
  description:
    'Node settings shared by sites: `sites/_defaults.yaml` (every node of every site) or `sites/_profiles/<name>.yaml` (the nodes that name the profile). Precedence: node > its profile > site defaults > their profile > repo defaults > their profile > built-in.',
  additionalProperties: false,
  properties: { $schema: str('Editor hint; ignored by harvgen.'), ...nodeSettings },
};

/** The schema of one node file (`sites/<site>/nodes/<name>.yaml`), for the editor modeline. */
export const nodeSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harvgen.dev/schema/node.schema.json',
  ...node,
  description: 'One Harvester node in its own file, `sites/<site>/nodes/<name>.yaml` (the hostname defaults to the file name).',
  properties: { $schema: str('Editor hint; ignored by harvgen.'), ...node.properties },
};
