"""MkDocs hook: the tutorials, executed at build time and rendered with their outputs.

A tutorial is a notebook kept as text, ``docs/tutorials/NN-name.py`` in jupytext's percent
format. At build time each is read with jupytext, executed by a Jupyter kernel (nbclient) in a
fresh temporary folder, and rendered as the page ``tutorials/NN-name.md``: Markdown cells as
they are, code cells as Python blocks, text outputs as text blocks, figures as PNG files beside
the page and tables as HTML. The ``.py`` file itself is copied into the site, for download.
A cell that raises fails the build.

``INNATURA_DOCS_EXECUTE=0`` renders the tutorials without running them (no outputs), for quick
edits of the prose with ``mkdocs serve``.
"""

from __future__ import annotations

import base64
import html
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.tutorials")

#: the folder of the tutorials under ``docs/``
FOLDER = "tutorials"
#: seconds a cell may run before the build fails
CELL_TIMEOUT = 300
#: matplotlib's backend in the kernel: figures become PNG outputs
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: output MIME types rendered, in order of preference
IMAGE, HTML, MARKDOWN, TEXT = "image/png", "text/html", "text/markdown", "text/plain"
STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
TABLE_ATTRS = re.compile(r'<table[^>]*class="dataframe"[^>]*>')
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def read(path: Path) -> Any:
    """The notebook of a percent-format ``.py`` file (nbformat v4)."""
    import jupytext

    return jupytext.read(path)


def execute(notebook: Any, workdir: Path, timeout: int = CELL_TIMEOUT) -> Any:
    """Run every cell of ``notebook`` in a fresh ``python3`` kernel whose working folder is
    ``workdir``; raises ``nbclient.exceptions.CellExecutionError`` on the first cell that fails."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    # the kernel talks to this process over local sockets (IPC), not over TCP ports
    manager = KernelManager(kernel_name="python3", transport="ipc",
                            connection_file=str(Path(workdir) / ".kernel-connection.json"))
    client = NotebookClient(notebook, km=manager, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    # the kernel inherits the environment: a non-interactive MPLBACKEND (Agg, as CI sets it)
    # would keep the figures out of the outputs
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        client.execute()
    finally:
        if manager.has_kernel:  # a kernel manager handed to nbclient is ours to stop
            manager.shutdown_kernel(now=True)
            manager.cleanup_resources()
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved
    return notebook


def _fence(text: str, lang: str, css: str = "") -> list[str]:
    ticks = "````" if "```" in text else "```"
    attrs = f"{{ .{lang} {css} }}" if css else lang
    return [f"{ticks} {attrs}" if css else f"{ticks}{attrs}", text.rstrip("\n"), ticks, ""]


def _html_table(markup: str) -> str:
    """A pandas table without its scoped style and class, so that the theme's table style applies."""
    markup = STYLE.sub("", markup)
    markup = TABLE_ATTRS.sub("<table>", markup)
    return "\n".join(line for line in markup.splitlines() if line.strip())


def render_output(output: Any, name: str, images: dict[str, bytes]) -> list[str]:
    """Markdown lines of one cell output; figures go to ``images`` under ``name``."""
    kind = output.get("output_type")
    if kind == "stream":
        return _fence(ANSI.sub("", output.get("text", "")), "text", ".nb-output")
    if kind == "error":
        return _fence(ANSI.sub("", "\n".join(output.get("traceback", []))), "text", ".nb-output")
    data = output.get("data", {})
    if IMAGE in data:
        images[f"{name}.png"] = base64.b64decode(data[IMAGE])
        alt = html.escape(data.get(TEXT, "figure").splitlines()[0].strip("<>"))
        return [f"![{alt}]({name}.png){{ .nb-figure }}", ""]
    if HTML in data:
        return ['<div class="nb-output nb-html" markdown="0">', _html_table(data[HTML]), "</div>", ""]
    if MARKDOWN in data:
        return [data[MARKDOWN], ""]
    if TEXT in data:
        return _fence(data[TEXT], "text", ".nb-output")
    return []


def to_markdown(notebook: Any, stem: str) -> tuple[str, dict[str, bytes]]:
    """The page of an executed notebook and its figures (file name -> PNG bytes, the names
    relative to the page's folder)."""
    lines: list[str] = []
    images: dict[str, bytes] = {}
    for index, cell in enumerate(notebook.cells):
        source = cell.source.rstrip()
        if cell.cell_type == "markdown":
            lines += [source, ""]
        elif cell.cell_type == "code" and source:
            lines += _fence(source, "python")
            for k, output in enumerate(cell.get("outputs", [])):
                lines += render_output(output, f"{stem}/cell-{index}-{k}", images)
    return "\n".join(lines), images


def build_page(path: Path, run: bool = True) -> tuple[str, dict[str, bytes], float]:
    """Read, execute (in a temporary folder) and render one tutorial; also returns the seconds
    its execution took."""
    notebook = read(path)
    start = time.perf_counter()
    if run:
        with tempfile.TemporaryDirectory(prefix=f"innatura-{path.stem}-") as workdir:
            execute(notebook, Path(workdir))
    seconds = time.perf_counter() - start
    markdown, images = to_markdown(notebook, path.stem)
    state = "executed when the site was built" if run else "shown without its outputs"
    note = (f"\n\nThis page is the notebook [`{path.name}`]({path.name}) (jupytext percent format), "
            f"{state}.\n{{ .nb-source }}\n")
    return markdown + note, images, seconds


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    run = os.environ.get("INNATURA_DOCS_EXECUTE", "1") != "0"
    for file in list(files):
        uri = file.src_uri
        if not (uri.startswith(f"{FOLDER}/") and uri.endswith(".py")):
            continue
        path = Path(file.abs_src_path)
        markdown, images, seconds = build_page(path, run=run)
        log.info("tutorial %s: %s in %.1f s", path.name, "executed" if run else "not executed", seconds)
        folder = uri.rsplit("/", 1)[0]
        files.append(File.generated(config, f"{folder}/{path.stem}.md", content=markdown))
        for name, data in images.items():
            files.append(File.generated(config, f"{folder}/{name}", content=data))
    return files
