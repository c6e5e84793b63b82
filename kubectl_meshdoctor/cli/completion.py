"""``kubectl meshdoctor completion bash|zsh|fish``: shell completion scripts.

The scripts complete the ``kubectl-meshdoctor`` executable. They use click's protocol
(the shell calls the program back with ``_KUBECTL_MESHDOCTOR_COMPLETE=<shell>_complete``);
the answers come from ``completers.complete``, the engine that also serves
``kubectl_complete-meshdoctor`` for ``kubectl meshdoctor <TAB>`` (kubectl 1.26+).
The bash and zsh scripts are click's, plus a ``nospace`` item type so that a namespace
completes to ``red/`` and the cursor stays on the word.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, ClassVar

import click
from click.shell_completion import BashComplete, CompletionItem, FishComplete, ShellComplete, ZshComplete

PROG = "kubectl-meshdoctor"
COMPLETE_VAR = "_KUBECTL_MESHDOCTOR_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

_BASH = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local response

    response=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD \
%(complete_var)s=bash_complete $1)

    for completion in $response; do
        IFS=',' read type value <<< "$completion"

        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=($value)
        elif [[ $type == 'nospace' ]]; then
            COMPREPLY+=($value)
            compopt -o nospace
        fi
    done

    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""

_ZSH = """\
#compdef %(prog_name)s

%(complete_func)s() {
    local -a completions
    local -a completions_with_descriptions
    local -a nospace
    local -a response
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \
%(complete_var)s=zsh_complete %(prog_name)s)}")

    for type key descr in ${response}; do
        if [[ "$type" == "plain" ]]; then
            if [[ "$descr" == "_" ]]; then
                completions+=("$key")
            else
                completions_with_descriptions+=("$key":"$descr")
            fi
        elif [[ "$type" == "nospace" ]]; then
            nospace+=("$key")
        elif [[ "$type" == "dir" ]]; then
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            _path_files -f
        fi
    done

    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi
    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
    if [ -n "$nospace" ]; then
        compadd -U -S '' -V unsorted -a nospace
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    %(complete_func)s "$@"
else
    compdef %(complete_func)s %(prog_name)s
fi
"""


class _Engine(ShellComplete):
    """Answers from our engine instead of click's per-parameter ``shell_complete``."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem[str]]:
        from kubectl_meshdoctor.cli.completers import complete

        result = complete(args, incomplete)
        if result.files:
            return [CompletionItem(incomplete, type="file")]
        return [
            CompletionItem(c.value, type="nospace" if c.nospace else "plain", help=c.help) for c in result.candidates
        ]


class _Bash(_Engine, BashComplete):
    source_template: ClassVar[str] = _BASH

    def source(self) -> str:  # no bash version probe: the script is only printed here
        return self.source_template % self.source_vars()


class _Zsh(_Engine, ZshComplete):
    source_template: ClassVar[str] = _ZSH


class _Fish(_Engine, FishComplete):
    def format_completion(self, item: CompletionItem[Any]) -> str:
        # fish adds no space after a candidate ending in "/", so nospace is plain here
        return super().format_completion(
            CompletionItem(item.value, type="plain", help=item.help) if item.type == "nospace" else item
        )


SHELL_CLASSES: dict[str, type[ShellComplete]] = {"bash": _Bash, "zsh": _Zsh, "fish": _Fish}


def completer(shell: str) -> ShellComplete:
    from kubectl_meshdoctor.cli.main import cli

    return SHELL_CLASSES[shell](cli, {}, PROG, COMPLETE_VAR)


def handle_env(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Answer a completion request from one of our scripts; False when this is not one."""
    env = os.environ if environ is None else environ
    instruction = env.get(COMPLETE_VAR)
    if not instruction:
        return False
    shell, _, action = instruction.partition("_")
    if shell in SHELL_CLASSES and action == "complete":
        with contextlib.suppress(Exception):  # never print a traceback into the user's command line
            click.echo(completer(shell).complete())
    elif shell in SHELL_CLASSES and action == "source":
        click.echo(completer(shell).source(), nl=False)
    return True


EXAMPLES = """\b
Examples:
  # bash: load now, or add the line to ~/.bashrc
  source <(kubectl meshdoctor completion bash)
  # zsh
  kubectl meshdoctor completion zsh > "${fpath[1]}/_kubectl-meshdoctor"
  # fish
  kubectl meshdoctor completion fish > ~/.config/fish/completions/kubectl-meshdoctor.fish

\b
These complete the kubectl-meshdoctor executable. For `kubectl meshdoctor <TAB>`,
load kubectl's own completion (kubectl completion bash|zsh|fish, kubectl 1.26+) and
keep kubectl_complete-meshdoctor on your PATH (pip/pipx install it).
"""


@click.command("completion", epilog=EXAMPLES)
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    click.echo(completer(shell).source(), nl=False)
