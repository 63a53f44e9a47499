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
  readonly commands: readonly {
    readonly name: string;
    readonly description: string;
    readonly flags: readonly string[];
    /**
     * The command's flags that take a value (`--out <dir>`): the next word is a value, completed as
     * a file name. Per command: `--nodes` takes a number for init and nothing for status.
     */
    readonly valued: readonly string[];
  }[];
  readonly globalFlags: readonly string[];
  readonly topics: readonly string[];
}

/** The spellings of options on the command line (`--dry-run`, `-q`, `--quiet`). */
function spellings(options: Command['options']): string[] {
  return options.flatMap((o) => o.rawName.split(/[\s,]+/).filter((n) => n.startsWith('-')));
}

function modelOf(cli: CAC): CompletionModel {
  return {
    commands: cli.commands.map((c) => ({
      name: c.name,
      description: c.description,
      flags: spellings(c.options),
      valued: spellings(c.options.filter((o) => /[<[]/.test(o.rawName))),
    })),
    globalFlags: [...new Set([...spellings(cli.globalCommand.options), '--help', '-h'])],
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
  const valued = m.commands.filter((c) => c.valued.length > 0).map((c) => `    ${c.name}) valued="${words(c.valued)}" ;;`);
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
  # The word after a flag of this command that takes a value is that value: a file name.
  local valued=""
  case "$cmd" in
${valued.join('\n')}
  esac
  if [[ -n "$prev" && " $valued " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
  fi
  case "$cmd" in
    "")
      if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$global" -- "$cur"))
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
  const valued = m.commands.filter((c) => c.valued.length > 0).map((c) => `    ${c.name}) valued=(${words(c.valued)}) ;;`);
  return `#compdef harvgen
# zsh completion for harvgen (written by \`harvgen completion zsh\`).
# Save it as _harvgen in a directory of $fpath, or load it with: source <(harvgen completion zsh)
_harvgen() {
  local cmd i
  local -a commands flags global valued
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
  # The word after a flag of this command that takes a value is that value: a file name.
  case $cmd in
${valued.join('\n')}
  esac
  if (( \${valued[(Ie)\${words[CURRENT-1]}]} )); then _files; return; fi
  case $cmd in
    '')
      if [[ $PREFIX == -* ]]; then compadd -- $global; else _describe -t commands 'harvgen command' commands; fi
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
