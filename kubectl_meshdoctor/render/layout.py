"""Lines that survive narrow terminals: prose wraps at the console width with a hanging indent,
verbatim lines (YAML, commands) never wrap and overflow instead, so they stay pasteable.

Rich would re-wrap a long line to column 0 and break YAML mid-key; here the width is read when
the console renders (``__rich_console__``), and each line says how it may be wrapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

Run = tuple[str, str]  # (text, style)
_WORD = re.compile(r"\S+|\s+")


@dataclass(slots=True)
class Prose:
    """Words wrapped to the width; continuation lines start at ``indent`` columns."""

    runs: list[Run]
    indent: int


@dataclass(slots=True)
class Verbatim:
    """One line printed as is, however wide; ``runs`` (styled pieces) follow ``text``."""

    text: str
    style: str = ""
    runs: list[Run] = field(default_factory=list)


@dataclass(slots=True)
class Rows:
    """A two-column table (name, decision) plus a prose column; on a terminal too narrow for the
    prose column (< MIN_ROOM), each row's prose goes under its name instead."""

    header: tuple[str, str, str]
    rows: list[tuple[str, str, str, str]]  # name, decision, decision style, prose; ("─ x", "", style, ""): a section

    MIN_ROOM = 32

    def lines(self, width: int) -> Iterator[Text]:
        cells = [r for r in [self.header, *self.rows] if r[1] or r[3]]
        name_w = max(len(r[0]) for r in cells)
        dec_w = max(len(r[1]) for r in cells)
        indent = 2 + name_w + 2 + dec_w + 2
        wide = width - indent >= self.MIN_ROOM
        if wide:
            head = f"  {self.header[0]:<{name_w}}  {self.header[1]:<{dec_w}}  {self.header[2]}"
            yield Text(head, style="bold", no_wrap=True, overflow="ignore", end="\n")
        for name, dec, style, text in self.rows:
            if not dec and not text:  # a section line
                yield from wrap_runs([(f"  {name}", style)], width, 4)
            elif wide:
                runs = [(f"  {name:<{name_w}}  ", ""), (f"{dec:<{dec_w}}", style), ("  ", ""), (text, "")]
                yield from wrap_runs(runs, width, indent)
            else:
                yield from self._stacked(name, dec, style, text, width)

    @staticmethod
    def _stacked(name: str, dec: str, style: str, text: str, width: int) -> Iterator[Text]:
        yield from wrap_runs([(f"  {name}  ", "bold"), (dec, style)], width, 4)
        yield from wrap_runs([("      ", ""), (text, "")], width, 6)


@dataclass(slots=True)
class Lines:
    items: list[Prose | Verbatim | Rows] = field(default_factory=list)

    def prose(self, indent: int, *runs: Run) -> None:
        self.items.append(Prose([r for r in runs if r[0]], indent))

    def verbatim(self, text: str, style: str = "") -> None:
        self.items.append(Verbatim(text, style))

    def row(self, *runs: Run) -> None:
        """Styled pieces on one line that never wraps (a table row)."""
        self.items.append(Verbatim("", "", list(runs)))

    def blank(self) -> None:
        self.items.append(Verbatim(""))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 20)
        for item in self.items:
            if isinstance(item, Verbatim):
                line = Text(item.text, style=item.style, no_wrap=True, overflow="ignore", end="\n")
                for text, style in item.runs:
                    line.append(text, style)
                yield line
            elif isinstance(item, Rows):
                yield from item.lines(width)
            else:
                yield from wrap_runs(item.runs, width, item.indent)


def wrap_runs(runs: list[Run], width: int, indent: int) -> Iterator[Text]:
    """Greedy word wrap across styled runs; a word longer than the room overflows its line."""
    indent = min(indent, max(width - 20, 0))  # keep at least 20 columns for the words
    line = Text(no_wrap=True, overflow="ignore", end="\n")
    col = 0
    wrapped = False  # on a continuation line with no word yet: drop leading spaces
    has_word = False
    for text, style in runs:
        for token in _WORD.findall(text):
            if token.isspace():
                if not wrapped:
                    line.append(token, style)
                    col += len(token)
                continue
            if col + len(token) > width and has_word:
                line.rstrip()
                yield line
                line = Text(" " * indent, no_wrap=True, overflow="ignore", end="\n")
                col, wrapped, has_word = indent, True, False
            line.append(token, style)
            col += len(token)
            wrapped, has_word = False, True
    line.rstrip()
    yield line
