// Shell completion scripts for bash and zsh, made from the cac command definitions (names,
// options, whether an option takes a value) and the help topics, so they cannot drift from the
// command line they complete.
import type { CAC, Command } from 'cac';
import { TOPICS } from './topics.ts';

/** The shells `harvgen completion` writes a script for. */
export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a script completes: each command with its flags, the global flags, the help topics. */
interface CompletionModel {
  readonly commands: readonly { readonly name: string; readonly description: string; readonly flags: readonly string[] }[];
  readonly globalFlags: readonly string[];
  /** Flags that take a value (`--out <dir>`): the next word is a value, completed as a file name. */
  readonly valueFlags: readonly string[];
  readonly topics: readonly string[];
}

/** The spellings of a command's options on the command line (`--dry-run`, `-q`, `--quiet`). */
function flagsOf(command: Command): string[] {
  return command.options.flatMap((o) => o.rawName.split(/[\s,]+/).filter((n) => n.startsWith('-')));
}

function modelOf(cli: CAC): CompletionModel {
  const all = [cli.globalCommand, ...cli.commands].flatMap((c) => c.options);
  return {
    commands: cli.commands.map((c) => ({ name: c.name, description: c.description, flags: flagsOf(c) })),
    globalFlags: [...flagsOf(cli.globalCommand), '--help', '-h'],
    valueFlags: [
      ...new Set(all.filter((o) => /[<[]/.test(o.rawName)).flatMap((o) => o.rawName.split(/[\s,]+/).filter((n) => n.startsWith('-')))),
    ],
    topics: TOPICS.map((t) => t.name),
  };
}

/** The completion script for a shell. */
export function completionScript(cli: CAC, shell: Shell): string {
  const model = modelOf(cli);
  return shell === 'bash' ? bashScript(model) : zshScript(model);
}

/** A word list for a shell script: only the characters flags, commands and topics are made of. */
function words(list: readonly string[]): string {
  for (const w of list) if (!/^[A-Za-z0-9-]+$/.test(w)) throw new Error(`completion: unexpected word ${JSON.stringify(w)}`);
  return list.join(' ');
}

function bashScript(m: CompletionModel): string {
  const cases = m.commands
    .filter((c) => c.name !== 'help' && c.name !== 'completion')
    .map((c) => `    ${c.name}) flags="${words(c.flags)}" ;;`);
  return `# bash completion for harvgen (written by \`harvgen completion bash\`).
# Load it with: source <(harvgen completion bash)
_harvgen() {
  local cur prev cmd i flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  if ((COMP_CWORD > 0)); then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  local global="${words(m.globalFlags)}"
  case "$prev" in
    ${m.valueFlags.join('|')})
      COMPREPLY=($(compgen -f -- "$cur"))
      return 0 ;;
  esac
  case "$cmd" in
    "")
      if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$global --version -v" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "${words(m.commands.map((c) => c.name))}" -- "$cur"))
      fi
      return 0 ;;
    help)
      COMPREPLY=($(compgen -W "${words([...m.commands.map((c) => c.name), ...m.topics])}" -- "$cur"))
      return 0 ;;
    completion)
      COMPREPLY=($(compgen -W "${words(SHELLS)}" -- "$cur"))
      return 0 ;;
${cases.join('\n')}
    *) flags="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags $global" -- "$cur"))
  else
    COMPREPLY=($(compgen -d -- "$cur"))
  fi
  return 0
}
complete -F _harvgen harvgen
`;
}

/** A zsh `_describe` entry: `name:description`, with the description's colons escaped. */
const describe = (name: string, text: string): string => `'${name}:${text.replace(/:/g, '\\:').replace(/'/g, `'\\''`)}'`;

function zshScript(m: CompletionModel): string {
  const cases = m.commands
    .filter((c) => c.name !== 'help' && c.name !== 'completion')
    .map((c) => `    ${c.name}) flags=(${words(c.flags)}) ;;`);
  return `#compdef harvgen
# zsh completion for harvgen (written by \`harvgen completion zsh\`).
# Save it as _harvgen in a directory of $fpath, or load it with: source <(harvgen completion zsh)
_harvgen() {
  local cmd i
  local -a commands flags global
  commands=(
${m.commands.map((c) => `    ${describe(c.name, c.description)}`).join('\n')}
  )
  global=(${words(m.globalFlags)})
  for ((i = 2; i < CURRENT; i++)); do
    case \${words[i]} in
      -*) ;;
      *) cmd=\${words[i]}; break ;;
    esac
  done
  case \${words[CURRENT-1]} in
    ${m.valueFlags.join('|')}) _files; return ;;
  esac
  case $cmd in
    '')
      if [[ $PREFIX == -* ]]; then compadd -- $global --version -v; else _describe -t commands 'harvgen command' commands; fi
      return ;;
    help) compadd -- ${words([...m.commands.map((c) => c.name), ...m.topics])}; return ;;
    completion) compadd -- ${words(SHELLS)}; return ;;
${cases.join('\n')}
    *) flags=() ;;
  esac
  if [[ $PREFIX == -* ]]; then compadd -- $flags $global; else _files -/; fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _harvgen "$@"
else
  compdef _harvgen harvgen
fi
`;
}
