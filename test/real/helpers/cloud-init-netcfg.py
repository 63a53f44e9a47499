#!/usr/bin/python3
"""cloud-init's own reading of a kernel command line's network config (test/real/media-cloud-init.test.ts).

argv: <package root> <kernel command line>. With that package's code only: the local stage's
read of `network-config=` (cloudinit.net.cmdline.read_kernel_cmdline_config) and the network state
it becomes (cloudinit.net.network_state.parse_net_config_data), which every renderer (ENI,
netplan, sysconfig, networkd) writes from. Prints one JSON object.
"""

import json
import sys

root, line = sys.argv[1], sys.argv[2]
sys.path.insert(0, root + "/usr/lib/python3/dist-packages")

from cloudinit import version  # noqa: E402
from cloudinit.net import cmdline, network_state  # noqa: E402

cfg = cmdline.read_kernel_cmdline_config(line)
out = {"version": version.version_string(), "config": cfg, "interfaces": [], "routes": [], "dns": []}
if cfg is not None:
    ns = network_state.parse_net_config_data(cfg)
    out["interfaces"] = list(ns.iter_interfaces())
    out["routes"] = list(ns.iter_routes())
    out["dns"] = list(ns.dns_nameservers)
print(json.dumps(out, default=str))
