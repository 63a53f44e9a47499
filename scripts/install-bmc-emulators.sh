#!/usr/bin/env bash
# Install the BMC emulators of the real-program tests (OpenStack's sushy-tools and virtualbmc, as
# published on PyPI, unpatched) into a venv at .tmp/real/bmc-venv: the versions of
# .ci/bmc-emulators.txt, every dependency pinned there and nothing else resolved (--no-deps).
# The venv is made from Debian's /usr/bin/python3 with --system-site-packages, for Debian's
# python3-libvirt (installed by .ci/install-real-deps.sh). Idempotent: a venv whose recorded
# requirements equal the file's is kept.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reqs=$repo_root/.ci/bmc-emulators.txt
venv=${HARVGEN_BMC_VENV:-$repo_root/.tmp/real/bmc-venv}
if [[ -x $venv/bin/sushy-emulator && -x $venv/bin/vbmcd ]] && cmp -s "$reqs" "$venv/requirements.txt"; then
  echo "install-bmc-emulators: $(grep -Eo '^(sushy-tools|virtualbmc)==[^ ]*' "$reqs" | tr '\n' ' ')already in $venv"
  exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$reqs"
"$venv/bin/python" -c 'import libvirt, sushy_tools, virtualbmc, pyghmi'
cp "$reqs" "$venv/requirements.txt"
echo "install-bmc-emulators: $(grep -Eo '^(sushy-tools|virtualbmc)==[^ ]*' "$reqs" | tr '\n' ' ')-> $venv"
