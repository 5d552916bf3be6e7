"""MkDocs hook: the command-line reference, generated from the ``innatura`` parsers.

``docs/cli.md`` holds the page's prose and the marker ``<!-- cli-reference -->``; at build time
the marker becomes one section per command with the exact ``--help`` text that
``innatura COMMAND --help`` prints (through :func:`innatura.cli.main`, the console script's own
entry point), so the reference never drifts from the parsers.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- cli-reference -->"
#: the width of the help texts (argparse reads ``COLUMNS``)
WIDTH = 100


def help_text(argv: list[str]) -> str:
    """What ``innatura ARGV --help`` prints, at :data:`WIDTH` columns."""
    from innatura.cli import main

    out = io.StringIO()
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main([*argv, "--help"])
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return out.getvalue().rstrip()


def commands() -> Iterator[tuple[list[str], str]]:
    """Every command line of ``innatura`` (``["run"]``, ``["bench", "io"]``, ...) with its one-line help."""
    from innatura.cli import COMMANDS

    for name, entry in COMMANDS.items():
        if isinstance(entry, dict):
            for sub, (_, summary) in entry.items():
                yield [name, sub], summary
        else:
            yield [name], entry[1]


def reference() -> str:
    """The reference as Markdown: the overview, then a section per command."""
    parts = ["## innatura", "", "```text", help_text([]), "```", ""]
    for argv, summary in commands():
        title = " ".join(["innatura", *argv])
        parts += [f"## {title}", "", f"{summary[0].upper()}{summary[1:]}.", "",
                  "```text", help_text(argv), "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())
