// The installer's rules on its config's other settings: the webhooks it prepares, and
// `skipchecks` where the release has none.
import { registryJsonProblem } from '../registry-json.ts';
import { webhookProblem } from '../webhooks.ts';
import { booleanKeys } from '../installer-schema.ts';
import { installerBool, mapperBool } from '../installer-values.ts';
import type { InstallerRule, RuleHit } from './subject.ts';

/** The config rules, in the order the installer meets them. */
export const CONFIG_RULES: readonly InstallerRule[] = [
  {
    id: 'boolean-values',
    code: 'INSTALLER_VALUE_READ_AS',
    releases: '>=1.2.0',
    when: 'a boolean setting that `config:` gives as something else (`"no"`, `1`, `on`, a list): from v1.8 the installer\'s config mapper takes a boolean as it is, and anything else as true only when its text, trimmed and lower-cased, is `true`, `t`, `yes` or `y`; before v1.8 only the text `true` itself reads true, and a number, a list or a map fails the config; `poweroff` takes no text at any release',
    effect:
      'reads the boolean that gives, without a word (`on` and `1` read false; before v1.8 also `yes` and `TRUE`); harvgen writes that boolean. Before v1.8 a number, a list or a map stops the install ("failed to convert to HarvesterConfig")',
    source:
      "pkg/config/schemas.go LoadHarvesterConfig (yaml.v3 into a map, then the schema mapper), rancher/mapper convert.go ToBool @v1.8.0 to v1.8.1; pkg/installer/config/schemas.go @v1.9.0-rc6 (harvester/harvester); before v1.8 no boolean is converted: the installer's own code (v1.4.3 to v1.7.1, run by the installer oracle)",
    check(s) {
      const hits: RuleHit[] = [];
      for (const key of booleanKeys(`${s.version.major}.${s.version.minor}`)) {
        const given = s.config.given(key);
        if (given === undefined || typeof given === 'boolean') continue;
        const read = installerBool(given, s.version, key);
        if (read === 'refused') {
          hits.push({
            message: `${key} of node ${s.node.hostname} is ${JSON.stringify(given)}, not true or false: the Harvester ${s.version.raw} installer cannot load its config ("failed to convert to HarvesterConfig: json: cannot unmarshal ... of type bool") and stops`,
            hint: `Write \`${key.slice(key.lastIndexOf('.') + 1)}: true\` or \`false\`.`,
            at: s.config.at(key),
            severity: 'error',
          });
          continue;
        }
        const surprising = !read && (/^(1|on|enable|enabled)$/i.test(String(given).trim()) || mapperBool(given));
        hits.push({
          severity: 'warning',
          message: `${key} of node ${s.node.hostname} is ${JSON.stringify(given)}, not true or false: the Harvester ${s.version.raw} installer reads it as ${String(read)}${surprising ? (s.version.minor >= 8 || s.version.major > 1 ? ' (only true, t, yes and y read as true)' : ' (before v1.8 only the text true reads as true)') : ''}, and harvgen writes ${String(read)}`,
          hint: `Write \`${key.slice(key.lastIndexOf('.') + 1)}: ${String(read)}\`${surprising ? ' (or true, if that was meant)' : ''}.`,
          at: s.config.at(key),
        });
      }
      return hits;
    },
  },
  {
    id: 'webhooks',
    code: 'INSTALLER_WEBHOOK_INVALID',
    releases: '>=1.2.0',
    when: 'a webhook whose event is not STARTED, SUCCEEDED or FAILED (exact case), whose method is missing or not an HTTP method once upper-cased, or whose `url` or `payload` is outside the Go template subset harvgen accepts',
    effect: "drops every webhook of the node, harvgen's own `boot.report` events too, and installs without them (only logged)",
    source:
      'pkg/console/webhooks.go PrepareWebhooks, prepareWebhook (strings.ToUpper, text/template missingkey=zero), IsValidEvent, IsValidHTTPMethod; install_panels.go (error logged, install goes on) @v1.2.0, same blob to v1.8.1',
    check(s) {
      const hooks = s.config.get('install.webhooks');
      if (!Array.isArray(hooks)) return undefined;
      const base = s.config.at('install.webhooks');
      const own = s.config.origin('install.webhooks') === 'config';
      const hits: RuleHit[] = [];
      hooks.forEach((hook, i) => {
        const p = webhookProblem(hook);
        if (!p) return;
        const present = (hook as Record<string, unknown>)[p.key] !== undefined;
        hits.push({
          message: `webhook ${i + 1} of node ${s.node.hostname}: ${p.message}; the Harvester ${s.version.raw} installer then drops every webhook of the node${s.report ? " (harvgen's install reports included: `harvgen status` sees no event)" : ''}`,
          hint:
            p.key === 'url' || p.key === 'payload'
              ? 'Write the value as plain text with {{.Hostname}}, {{.MACAddr}}, {{.IPAddrV4}} or {{.IPAddrV6}} where the installer fills them in (docs/ "Installer webhooks").'
              : `Set \`${p.key}\` to one of ${p.key === 'event' ? 'STARTED, SUCCEEDED, FAILED' : 'GET, POST, PUT, ...'}.`,
          at: own ? [...base, i, ...(present ? [p.key] : [])] : base,
        });
      });
      return hits;
    },
  },
  {
    id: 'tty-spaced',
    code: 'INSTALLER_VALUE_READ_AS',
    releases: '>=1.2.0',
    when: '`install.tty` (in `config:`) with a space in it, or empty',
    effect:
      'takes it as written and hands it to the installed system as its console (`console=<tty>`); empty: the first console the installer finds',
    source:
      'pkg/config/config.go Install.TTY (any string), pkg/console/install_panels.go addInstallPanel (empty: getFirstConsoleTTY), pkg/config/cos.go ConvertToElementalConfig (elementalConfig.Install.Tty = TTY) @v1.2.0, same to v1.8.1; pkg/installer/... @harvester/harvester v1.9.0-rc6',
    check(s) {
      const tty = s.config.get('install.tty');
      if (typeof tty !== 'string' || (tty !== '' && !/\s/.test(tty))) return undefined;
      return {
        message:
          tty === ''
            ? `install.tty of node ${s.node.hostname} is empty: the Harvester ${s.version.raw} installer takes the first console it finds for the installed system`
            : `install.tty "${tty}" of node ${s.node.hostname} has a space: the Harvester ${s.version.raw} installer takes it as written for the installed system's console (\`console=${tty}\`), which is then not one console name`,
        hint:
          tty === ''
            ? 'Remove the key to say the same, or name the console (`tty1`, `ttyS0,115200n8`).'
            : `Write it without spaces, e.g. \`${tty.replace(/\s+/g, '')}\`.`,
        at: s.config.at('install.tty'),
        severity: 'warning',
      };
    },
  },
  {
    id: 'containerd-registry-json',
    code: 'INSTALLER_SETTING_INVALID',
    releases: '>=1.3.0',
    when: 'on the create node (the installer checks system_settings in create mode only), `system_settings.containerd-registry` that does not decode as a containerd registries configuration (not JSON, or a field of the wrong JSON type)',
    effect: 'refuses the config: "could not parse containerd-registry as JSON"',
    source:
      'pkg/console/validator.go commonCheck (create mode), checkSystemSettings (json.NewDecoder(...).Decode(&registries.Registry), ErrContainerdRegistrySettingNotValidJSON) @v1.3.0 to v1.8.1; pkg/installer/console/validator.go @v1.9.0-rc6 (harvester/harvester); none @v1.2.2',
    check(s) {
      const value = s.config.get('system_settings.containerd-registry');
      if (typeof value !== 'string' || s.config.get('install.mode') !== 'create') return undefined;
      const problem = registryJsonProblem(value);
      if (!problem) return undefined;
      return {
        message: `system_settings.containerd-registry of node ${s.node.hostname}: ${problem}; the Harvester ${s.version.raw} installer refuses the config: "could not parse containerd-registry as JSON"`,
        hint: 'Write the setting as the JSON of a registries configuration, e.g. \'{"mirrors":{"docker.io":{"endpoint":["https://mirror.example"]}}}\' (keys mirrors, configs, auths).',
        at: s.config.at('system_settings.containerd-registry'),
      };
    },
  },
  {
    id: 'skipchecks-v1.2',
    code: 'INSTALLER_SKIPCHECKS_IGNORED',
    releases: '<1.3.0',
    when: '`skipchecks` set (`boot.skipchecks`, which puts `harvester.install.skipchecks=true` on the kernel line) for a v1.2 release',
    effect: 'ignored: v1.2 has no preflight checks and no skipchecks, and its disk minimums always apply',
    source: 'pkg/config/config.go Install (no SkipChecks field), no pkg/preflight @v1.2.2; both added @v1.3.0',
    check(s) {
      if (s.config.get('install.skipchecks') !== true) return undefined;
      return {
        message: `skipchecks is set for node ${s.node.hostname}, but the Harvester ${s.version.raw} installer has no skipchecks (added in v1.3.0): it is ignored, and the disk minimums still apply`,
        hint: 'Remove it for v1.2 nodes, or install v1.3 or newer.',
        at: s.config.at('install.skipchecks'),
        severity: 'warning',
      };
    },
  },
];
