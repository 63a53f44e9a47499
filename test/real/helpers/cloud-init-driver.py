#!/usr/bin/python3
"""Run cloud-init's own NoCloud code against a kernel command line (test/real/cloud-init.test.ts).

Given an unpacked cloud-init package (--root), the kernel command line a generic node boots with
(--cmdline) and network access to the seed server, do what a systemd boot of that cloud-init does
with it, using that package's own code:

  0. ds-identify (the package's /usr/lib/cloud-init/ds-identify) against a fake root whose
     /proc/cmdline is the command line and whose DMI says QEMU: its exit code decides whether
     cloud-init runs at all, and the datasource_list it writes becomes the runtime config;
  1. the local stage (`cloud-init init --local`): sources.find_source with DEP_FILESYSTEM;
  2. the network stage (`cloud-init init`): the datasource of the local stage if it found one,
     else find_source with DEP_FILESYSTEM and DEP_NETWORK; then main_init's rule: a datasource
     whose dsmode is not "net" ends the stage ("Exiting. datasource ... in local mode") before
     any user-data is consumed (cloudinit/cmd/main.py main_init, the same from 22.4 to 26.2).

Only the command line (DEBUG_PROC_CMDLINE, read by cloudinit.util.get_cmdline) and paths (a temp
dir) are redirected; no cloud-init code is patched. Only NoCloud and None may run: any other
datasource would probe cloud metadata addresses. Prints one JSON object.
"""

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

DMI = {"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)", "chassis_vendor": "QEMU",
       "product_uuid": "6f2a1c44-0000-4000-8000-525400aacc01", "product_serial": "", "board_name": "",
       "board_vendor": "", "chassis_asset_tag": ""}


def ds_identify(root, cmdline, work):
    """The package's ds-identify on a fake root: (enabled, path of the cloud.cfg it wrote)."""
    fr = os.path.join(work, "di-root")
    for d in ("proc/1", "sys/class/dmi/id", "run/cloud-init", "var/lib/cloud", "bin"):
        os.makedirs(os.path.join(fr, d), exist_ok=True)
    with open(os.path.join(fr, "proc/cmdline"), "w") as f:
        f.write(cmdline + "\n")
    with open(os.path.join(fr, "proc/1/cmdline"), "w") as f:
        f.write("\0".join(["/sbin/init"] + cmdline.split()) + "\0")
    with open(os.path.join(fr, "proc/uptime"), "w") as f:
        f.write("5.00 4.00\n")
    for k, v in DMI.items():
        with open(os.path.join(fr, "sys/class/dmi/id", k), "w") as f:
            f.write(v + "\n")
    shutil.copytree(os.path.join(root, "etc/cloud"), os.path.join(fr, "etc/cloud"), symlinks=True)
    # A PXE-booted VM, not this machine (a container): systemd-detect-virt says kvm.
    fake = os.path.join(fr, "bin/systemd-detect-virt")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncase "$1" in --container|-c) echo none; exit 1;; esac\necho kvm\n')
    os.chmod(fake, 0o755)
    env = dict(os.environ, PATH=os.path.join(fr, "bin") + ":" + os.environ.get("PATH", ""),
               SYSTEMD_VIRTUALIZATION="vm:kvm", PATH_ROOT=fr, PATH_RUN=os.path.join(fr, "run"),
               DI_LOG=os.path.join(fr, "run/cloud-init/ds-identify.log"))
    p = subprocess.run(["/bin/sh", os.path.join(root, "usr/lib/cloud-init/ds-identify"), "--force"],
                       env=env, capture_output=True, text=True)
    cfg = os.path.join(fr, "run/cloud-init/cloud.cfg")
    return p.returncode == 0, cfg if os.path.exists(cfg) else None


def seed_user_data(cmdline):
    """What the seed server serves as user-data (fetched here, not by cloud-init)."""
    for word in cmdline.split():
        if word.startswith("ds="):
            for kv in word.split(";")[1:]:
                k, _, v = kv.partition("=")
                if k in ("s", "seedfrom") and v:
                    with urllib.request.urlopen(v.rstrip("/") + "/user-data", timeout=10) as r:
                        return r.read()
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--cmdline", required=True)
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    work = tempfile.mkdtemp(prefix="harvgen-cloud-init.")
    out = {"root": root, "stages": []}
    try:
        enabled, di_cfg = ds_identify(root, args.cmdline, work)
        out["ds_identify_enabled"] = enabled
        os.environ["DEBUG_PROC_CMDLINE"] = args.cmdline
        sys.path.insert(0, os.path.join(root, "usr/lib/python3/dist-packages"))
        import cloudinit.log  # noqa: F401 (22.x resets the root logger on import)
        log = logging.getLogger()
        log.addHandler(logging.FileHandler(os.path.join(work, "cloud-init.log")))
        log.setLevel(logging.DEBUG)
        from cloudinit import distros, helpers, sources, util
        from cloudinit import version
        import cloudinit.sources.DataSourceNoCloud as nocloud

        out["version"] = version.version_string()
        if not enabled:
            out["used"] = False
            out["outcome"] = "ds-identify disabled cloud-init"
            return out
        layers = [util.get_builtin_cfg(), util.read_conf_with_confd(os.path.join(root, "etc/cloud/cloud.cfg"))]
        if di_cfg:
            layers.append(util.read_conf(di_cfg))
        layers.append(util.read_conf_from_cmdline())
        cfg = util.mergemanydict(layers, reverse=True)
        dslist = cfg.get("datasource_list") or []
        out["datasource_list"] = dslist
        if any(str(d).lower() not in ("nocloud", "nocloud-net", "none") for d in dslist):
            raise SystemExit("refusing to run datasources other than NoCloud/None: %s" % dslist)
        sysinfo = cfg.setdefault("system_info", {})
        paths_cfg = dict(sysinfo.get("paths") or {})
        paths_cfg.update(cloud_dir=os.path.join(work, "var/lib/cloud"), run_dir=os.path.join(work, "run/cloud-init"),
                         templates_dir=os.path.join(work, "templates"))
        sysinfo["paths"] = paths_cfg
        paths = helpers.Paths(paths_cfg)
        name = sysinfo.get("distro", "debian")
        distro = distros.fetch(name)(name, sysinfo, paths)
        pkgs = ["", sources.__name__]
        ds, used_in = None, None
        for stage, deps in (("init-local", [sources.DEP_FILESYSTEM]),
                            ("init", [sources.DEP_FILESYSTEM, sources.DEP_NETWORK])):
            try:
                if ds is None:
                    ds, _ = sources.find_source(cfg, distro, paths, deps, dslist, pkgs, None)
                want = sources.DSMODE_LOCAL if stage == "init-local" else sources.DSMODE_NETWORK
                out["stages"].append({"stage": stage, "datasource": type(ds).__name__, "dsmode": ds.dsmode})
                if ds.dsmode == want:
                    used_in = stage
                    break
                if stage == "init":
                    out["stages"][-1]["exit"] = "datasource in local mode: user-data not consumed"
            except sources.DataSourceNotFoundException:
                out["stages"].append({"stage": stage, "datasource": None})
        served = seed_user_data(args.cmdline)
        got = getattr(ds, "userdata_raw", None)
        if isinstance(got, str):
            got = got.encode()
        out["used_in"] = used_in
        out["used"] = bool(used_in and isinstance(ds, nocloud.DataSourceNoCloud) and served is not None and got == served)
        out["userdata_matches_served"] = served is not None and got == served
        out["outcome"] = "user-data used in %s" % used_in if out["used"] else "user-data NOT used"
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), default=str))
