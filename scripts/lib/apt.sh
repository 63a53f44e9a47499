# Shared by the scripts/fetch-*.sh scripts (sourced, not run): a private work directory and package
# downloads with apt's ordinary client. Packages are downloaded, never installed.

# work_dir LABEL: create a temp dir readable by apt's _apt user, removed when the script exits;
# sets $work and creates $work/dl for downloads.
work_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/harvgen-$1.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  chmod 711 "$work"
  mkdir "$work/dl"
  # apt downloads as the _apt user when it can write the target dir (otherwise it warns).
  if id _apt >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then chown _apt "$work/dl"; fi
}

# download PACKAGE...: `apt-get download` into $work/dl (APT_CONFIG from the environment, if set).
download() {
  (cd "$work/dl" && apt-get download -q "$@" >/dev/null)
}

# alt_apt: a private apt state for Debian 13 (trixie) and unstable (sid) under .tmp/real/apt-alt,
# or $HARVGEN_APT_STATE (the host's apt sources and lists are untouched); sets $alt
# (APT_CONFIG=$alt/apt.conf uses it). $alt_suites (default "trixie sid") names the suites.
# alt_update: `apt-get update` of that state, once per script.
alt_apt() {
  alt=${HARVGEN_APT_STATE:-$repo_root/.tmp/real/apt-alt}
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg suite
  if [[ ! -r $keyring ]]; then
    echo "$keyring is missing: install the debian-archive-keyring package (Debian's archive key, which apt checks the packages with)" >&2
    exit 1
  fi
  mkdir -p "$alt/lists/partial" "$alt/cache/archives/partial" "$alt/sources.list.d"
  for suite in ${alt_suites:-trixie sid}; do
    echo "deb [signed-by=$keyring] http://deb.debian.org/debian $suite main"
  done > "$alt/sources.list"
  [[ -e $alt/status ]] || : > "$alt/status"
  cat > "$alt/apt.conf" <<CONF
Dir::Etc::sourcelist "$alt/sources.list";
Dir::Etc::sourceparts "$alt/sources.list.d";
Dir::State::Lists "$alt/lists";
Dir::State::status "$alt/status";
Dir::Cache "$alt/cache";
Dir::Cache::archives "$alt/cache/archives";
APT::Default-Release "";
CONF
  if id _apt >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then chown _apt "$alt/lists/partial" "$alt/cache/archives/partial"; fi
}
alt_update() {
  if [[ -z ${alt_updated:-} ]]; then
    APT_CONFIG=$alt/apt.conf apt-get update -q >/dev/null
    alt_updated=1
  fi
}

# alt_version PACKAGE SUITE: the version of PACKAGE in SUITE (trixie, sid) of the private state.
alt_version() {
  APT_CONFIG=$alt/apt.conf apt-cache madison "$1" | awk -v s="$2" '$0 ~ " "s"/" {print $3; exit}'
}
