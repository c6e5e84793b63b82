"""``kubectl_complete-meshdoctor``: completion of ``kubectl meshdoctor ...`` by kubectl itself.

kubectl 1.26+ completes a plugin's arguments by running ``kubectl_complete-<plugin>``
with the words after the plugin name, the last one being the word under the cursor
(possibly empty). The answer is cobra's ``__complete`` protocol: one candidate per line
(``value<TAB>description``), then ``:<directive>`` on the last line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# cobra's ShellCompDirective bits
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_DEFAULT = 0  # the shell may complete file names


def answer(args: Sequence[str]) -> str:
    """The cobra-protocol answer for ``kubectl meshdoctor <args>``."""
    from kubectl_meshdoctor.cli.completers import complete

    words, incomplete = (list(args[:-1]), args[-1]) if args else ([], "")
    try:
        result = complete(words, incomplete)
    except Exception:  # completion never prints a traceback into the user's command line
        return f":{DIRECTIVE_ERROR}\n"
    if result.files:
        return f":{DIRECTIVE_DEFAULT}\n"
    directive = DIRECTIVE_NO_FILE_COMP
    if any(c.nospace for c in result.candidates):
        directive |= DIRECTIVE_NO_SPACE
    lines = [f"{c.value}\t{c.help.splitlines()[0]}" if c.help else c.value for c in result.candidates]
    return "".join(line + "\n" for line in lines) + f":{directive}\n"


def main(argv: Sequence[str] | None = None) -> int:
    sys.stdout.write(answer(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
