"""Drive a Redfish service with sushy (Debian python3-sushy), OpenStack's Redfish client library,
to cross-check the requests the generated BMC scripts send (test/real/bmc.test.ts).

usage: sushy-driver.py <base-url> <system-path> <manager-path> <media-path> <iso-url>
User and password come from SUSHY_USER and SUSHY_PASSWORD; the CA from REQUESTS_CA_BUNDLE.
"""
import os
import sys

import sushy
from sushy import auth

base, system_path, manager_path, media_path, iso = sys.argv[1:6]
conn = sushy.Sushy(
    base + '/redfish/v1/',
    auth=auth.BasicAuth(username=os.environ['SUSHY_USER'], password=os.environ['SUSHY_PASSWORD']),
)
system = conn.get_system(system_path)
system.set_system_boot_options(
    sushy.BootSource.PXE,
    enabled=sushy.BootSourceOverrideEnabled.ONCE,
    mode=sushy.BootSourceOverrideMode.UEFI,
)
system.reset_system(sushy.ResetType.FORCE_RESTART)
media = conn.get_manager(manager_path).virtual_media.get_member(media_path)
media.eject_media()
media.insert_media(iso, inserted=True, write_protected=True)
