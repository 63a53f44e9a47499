// The codes of a run beyond one site's inventory: the sites of one run together, render and emit,
// and the day-2 commands (verify, publish, pull, status, discover), the command line.
import { c, type CodeInfo } from './info.ts';

export const RUN_CODES = {
  // across the sites of one run
  SITE_SERVER_CONFLICT: c('error', 'invalid', 'Two sites are served at the same boot server URL (same host, port and path prefix).'),
  SITE_MAC_DUPLICATE: c(
    'warning',
    'invalid',
    'The same boot MAC belongs to nodes of two sites of the run (an error when the sites share a boot server or a dnsmasq).',
  ),
  SITE_SHARED_ARTIFACTS: c('error', 'invalid', 'A site on a shared boot server serves its release files outside its own path prefix.'),
  SITE_DNSMASQ_CONFLICT: c(
    'error',
    'invalid',
    'Sites that share one dnsmasq (`dnsmasq.host`) disagree on what the process holds once (TFTP root, DNS, reservation directory), on listening interfaces, or have overlapping networks.',
  ),
  // render and emit
  RENDER_PATH_ESCAPE: c('error', 'invalid', 'An output path would leave the output directory.'),
  RENDER_UNSAFE_VALUE: c('error', 'invalid', 'A value cannot be written safely in the format of its file (a validation gap: a bug).'),
  RENDER_CONFIG_TOO_LARGE: c(
    'error',
    'invalid',
    "A node's Harvester config (its merged `config:` or the file) would be larger than 1 MiB.",
  ),
  RENDER_SITE_CONFIGS_TOO_LARGE: c(
    'error',
    'invalid',
    "The Harvester configs of a site's nodes (their merged `config:`, or the files) would be larger than 64 MiB together: a large shared `config:` repeated in every node's.",
  ),
  EMIT_WRITE_FAILED: c('error', 'failed', 'The output could not be written.'),
  EMIT_DUPLICATE_SITE: c('error', 'invalid', 'Two site directories declare the same `site:` name (they would write the same output).'),
  EMIT_STALE: c('error', 'invalid', '`--check`: the output directory differs from what the inventory builds.'),
  EMIT_OUT_DIR_UNSAFE: c('error', 'failed', 'The output root is `/`, a home or system directory, or inside or above a site directory.'),
  EMIT_SYMLINK_REFUSED: c('error', 'failed', 'A path in the output directory is a symbolic link; harvgen never writes through one.'),
  EMIT_LOCKED: c('error', 'failed', 'Another harvgen is building the same output directory.'),
  EMIT_RECOVERED: c(
    'warning',
    'invalid',
    'The previous build was interrupted; this build first finished or undid it (never fails a build).',
  ),
  EMIT_INTERRUPTED: c('error', 'invalid', '`--check`/`--dry-run`: the output holds an unfinished build (a warning with --dry-run).'),
  EMIT_UNTRUSTED_PATH: c('warning', 'invalid', 'The `manifest.json` in the output names a path that is not plain; harvgen ignored it.'),
  EMIT_JOURNAL_DISCARDED: c(
    'warning',
    'invalid',
    "The journal of an interrupted build did not verify (not harvgen's shape, or a file no `manifest.json` lists) or could not be applied: deleted unapplied, reported once; the build then rewrites the tree.",
  ),
  // verify: a boot server against the deploy tree
  DISCOVER_DIR_UNSAFE: c('error', 'failed', "A site's `discovered/` is a symbolic link or not a directory: discover writes no stub there."),
  DISCOVER_CAPPED: c('warning', 'failed', 'discover wrote the most stubs one run writes; the other unknown MACs got none this run.'),
  STATUS_LOG_UNREADABLE: c('error', 'failed', 'A log given to `harvgen status` or `harvgen discover` cannot be read.'),
  FAILOVER_SPLIT: c(
    'warning',
    'failed',
    "`status`: both boot servers of a pair held the shared address at once (each server's keepalived check leaves a mark in its access log while it holds it): they could not hear each other.",
  ),
  STATUS_LOCKED: c('error', 'failed', 'Another `harvgen status` is reading logs into the same `--state` directory.'),
  STATUS_BMC_LOG_UNREADABLE: c(
    'error',
    'failed',
    'A BMC log given to `harvgen status --bmc-log` (what the BMC scripts append to `HARVGEN_BMC_LOG`) cannot be read.',
  ),
  VERIFY_DRIFT: c(
    'error',
    'invalid',
    '`verify`: a file the server must serve is not what was built: missing, another status, a redirect, other bytes (stale or edited), the wrong Content-Type, or a release file whose SHA-512 is not the published one.',
  ),
  VERIFY_EXPOSED: c(
    'error',
    'invalid',
    "`verify`: the server answers where it must refuse (403/404): manifest.json, dnsmasq/, nginx/, the build state, secrets, a directory listing, a redirect, a traversal path, a random name, or a node's file to an address its access rules leave out.",
  ),
  VERIFY_UNREACHABLE: c(
    'error',
    'failed',
    '`verify`: a server did not answer (refused, timed out, no route, name not found); its other checks were not made (exit 2).',
  ),
  VERIFY_STALE_CONFIG: c(
    'error',
    'failed',
    "`pull`: after the reload, the boot server did not answer `.harvgen/config` with the id of the new tree's nginx config (`nginx/harvgen.conf`, or `nginx/locations.conf` on a server block shared by sites) within 30 s, but another id or another status: nginx still runs another config (the reload command reloaded another nginx or failed, or nginx does not include the served config). The verdict in state.json fails, nothing else is checked, and pull ends with `PULL_FAILED` (exit 2).",
  ),
  VERIFY_CONFIG_SILENT: c(
    'error',
    'failed',
    "`pull`: after the reload, the boot server gave no whole answer to `.harvgen/config` for 3 s (it hung, or dripped its answer too slowly to finish) while it answered verify's other requests: pull cannot tell which config nginx runs. The verdict in state.json fails and says which; pull ends with `PULL_FAILED` (exit 2).",
  ),
  VERIFY_RELEASE_FILE: c(
    'error',
    'failed',
    '`pull`: a release file of the served version (kernel, initrd, root image, ISO) is not in `nginx.artifacts_dir` as its signed provenance gives it (missing, another size, other bytes), and could not be put back from the registry. The verdict in state.json fails and names the file; pull ends with `PULL_FAILED` (exit 2).',
  ),
  VERIFY_NO_DEPLOY_TREE: c(
    'error',
    'failed',
    '`verify`: there is no deploy tree to compare with: no `<out>/<site>/manifest.json`, one harvgen did not write, or the committed tree (secrets as markers) (exit 2).',
  ),
  VERIFY_SIGNATURE: c(
    'error',
    'invalid',
    "`verify`: the site has a signing key, and the deploy tree's manifest.json.sig is missing or does not verify (`ssh-keygen -Y verify`) for that manifest.json: nothing of the tree is trusted, no request is made (exit 1).",
  ),
  VERIFY_FLEET_RECORD: c(
    'error',
    'failed',
    '`verify --fleet`: the fleet record cannot be used: no directory, no `<site>.json` in it, or a record that is not JSON, names another site than its file, or lacks a valid `boot_server`, `digest`, `repository`, `tag` or `sample` (that site is not checked; exit 2).',
  ),
  VERIFY_FLEET_STATE: c(
    'error',
    'invalid',
    "`verify --fleet`: the boot server does not say which artifact it serves: no `.harvgen/state.json` (not materialized by `harvgen pull`, or its nginx config lacks the state location), one that is not the materializer's, or one of another site (the record's `boot_server` points elsewhere).",
  ),
  VERIFY_FLEET_DRIFT: c(
    'error',
    'invalid',
    "`verify --fleet`: the site serves another artifact than the fleet record in git says (its state.json's `digest` is not the record's): not pulled yet, refused by the materializer, or changed by hand.",
  ),
  VERIFY_FLEET_VERDICT: c(
    'error',
    'invalid',
    "`verify --fleet`: the materializer's own verify of what the site serves failed (its state.json's last `verdict`); a warning while it has recorded no verdict yet.",
  ),
  REPORT_VERIFIED: c(
    'error',
    'failed',
    "`report --verified`: the verify results cannot be used: not a regular file, larger than 64 MiB, not JSON, not `harvgen verify --fleet --json`'s document, an entry with a value that is not what it should be, or given without `--fleet` (nothing is written; exit 2); a warning when they name sites or servers the fleet record does not (those are left out).",
  ),
  // command line
  CLI_USAGE: c('error', 'failed', 'The command line is wrong (unknown command or option, missing argument).'),
  INTERNAL_ERROR: c('error', 'failed', 'harvgen itself failed (a bug).'),
} as const satisfies Record<string, CodeInfo>;
