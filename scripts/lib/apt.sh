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
