"""Every code block of the README and the documentation site runs as written.

Per page, in the order a reader meets them, in one fresh folder:

- ```` ```python ```` blocks run in one Python process (one namespace, as a reader continuing
  in the same session), started as ``python -c`` so that the current folder comes first on
  ``sys.path``, as in an interactive session;
- ```` ```bash ```` blocks: their ``innatura ...`` commands run (a line may hold several,
  joined by ``&&``; other commands, such as ``pip install`` or ``python -m pytest``, do not);
- a block after ``<!-- docs-test: write FILE -->`` is written to ``FILE`` for the blocks after it;
- a block after ``<!-- docs-test: skip (reason) -->`` does not run: only commands that serve a
  page until interrupted or need the network, see :data:`SKIPS_EXPECTED`.

The folder holds ``scenarios/`` and ``abm/`` folders of its own whose ``__init__.py`` raises and
whose built-in scenario files are junk, so a snippet that imports a bare ``scenarios`` or reads
a scenario from the current folder fails (the snippets must reach innatura through
``innatura.``); ``scenarios/data`` is the shipped data and ``examples/`` a copy of the
repository's, as in a checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import selectors
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from docs_support import ROOT, checkout_like

DOCS = ROOT / "docs"
PAGES = sorted(
    [ROOT / "README.md", ROOT / "examples" / "README.md", ROOT / "scenarios" / "FORMAT.md",
     *(p for p in DOCS.rglob("*.md") if "hooks" not in p.relative_to(DOCS).parts)],
    key=lambda p: str(p.relative_to(ROOT)))
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)")
DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(?P<what>skip|write)\b\s*(?P<arg>.*?)\s*-->\s*$")
#: (page, first line of the block) of the blocks marked skip: kept tiny and named here, so that
#: a new skip is a deliberate change of this list
SKIPS_EXPECTED = {
    ("docs/getting-started.md", "innatura viz selviaria"),
    ("docs/viz.md", "innatura viz --fetch-assets          # once: fills the front-end asset cache from npm"),
}
#: what a page's commands need beyond the core install: text in the page -> importable module
NEEDS = {"--planner learned": "torch_geometric", "train learned": "torch_geometric",
         "learned-ablation": "torch_geometric", "--format pymrio": "pymrio"}
BLOCK_TIMEOUT = 600
RUNNERS = ("python", "bash", "sh", "shell")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    page: Path
    line: int
    lang: str
    code: str
    directive: str = ""
    arg: str = ""

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` in order, with the docs-test directive before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, ticks, lang = match["indent"], match["ticks"], match["lang"].lower()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(ticks):
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1:end]]
        before = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        directive = DIRECTIVE.match(before)
        found.append(Block(page, i + 1, lang, "\n".join(body) + "\n",
                           directive["what"] if directive else "", directive["arg"] if directive else ""))
        i = end + 1
    return found


def innatura_commands(code: str) -> list[list[str]]:
    """The ``innatura ...`` commands of a shell block, as argument lists."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        segment: list[str] = []
        for token in [*lexer, ";"]:
            if token in {"&&", "||", ";", "|", "&"}:
                if segment and segment[0] == "innatura":
                    commands.append(segment)
                segment = []
            else:
                segment.append(token)
    return commands


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", TQDM_DISABLE="1")
    return env


def innatura_executable() -> list[str]:
    script = Path(sys.executable).with_name("innatura")
    return [str(script)] if script.exists() else [sys.executable, "-m", "innatura"]


#: runs the page's Python blocks in one namespace; answers on a copy of the original stdout,
#: while what the blocks print (Python or C level) goes to a log file
DRIVER = r"""
import json, os, sys, traceback
answers = os.fdopen(os.dup(1), "w")
log = open(".docs-blocks.log", "a")
os.dup2(log.fileno(), 1)
os.dup2(log.fileno(), 2)
sys.stdout = os.fdopen(1, "w", buffering=1)
sys.stderr = os.fdopen(2, "w", buffering=1)
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    request = json.loads(line)
    try:
        exec(compile(request["code"], request["name"], "exec"), namespace)
        answer = {"ok": True}
    except BaseException:
        answer = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.flush()
    sys.stderr.flush()
    answers.write(json.dumps(answer) + "\n")
    answers.flush()
"""


class PythonSession:
    """One ``python -c`` process that runs blocks in one namespace."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=folder, env=environment(), text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, block: Block) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"code": block.code, "name": block.name}) + "\n")
        self.proc.stdin.flush()
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=BLOCK_TIMEOUT):
            pytest.fail(f"{block.name}: no answer within {BLOCK_TIMEOUT} s")
        line = self.proc.stdout.readline()
        if not line:
            pytest.fail(f"{block.name}: the Python session ended:\n{self.log()}")
        answer = json.loads(line)
        if not answer["ok"]:
            pytest.fail(f"{block.name} raised:\n{answer['error']}\n--- output ---\n{self.log()}")

    def log(self) -> str:
        path = self.folder / ".docs-blocks.log"
        return path.read_text(encoding="utf-8", errors="replace")[-4000:] if path.exists() else ""

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_command(args: list[str], block: Block, folder: Path) -> None:
    done = subprocess.run([*innatura_executable(), *args[1:]], cwd=folder, env=environment(), text=True,
                          capture_output=True, timeout=BLOCK_TIMEOUT, check=False)
    if done.returncode != 0:
        pytest.fail(f"{block.name}: `{shlex.join(args)}` exited with {done.returncode}:\n"
                    f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def page_params() -> list:
    params = []
    for page in PAGES:
        runnable = [b for b in blocks(page) if b.directive != "skip" and (b.lang in RUNNERS or b.directive == "write")]
        if not runnable:
            continue
        text = page.read_text(encoding="utf-8")
        needs = sorted({module for key, module in NEEDS.items() if key in text})
        marks = [pytest.mark.learn] if "torch_geometric" in needs else []
        params.append(pytest.param(page, needs, id=str(page.relative_to(ROOT)), marks=marks))
    return params


def test_the_pages_are_found():
    names = {str(p.relative_to(ROOT)) for p in PAGES}
    assert {"README.md", "docs/getting-started.md", "docs/architecture.md", "docs/fig3.md"} <= names


def test_skips_are_few_and_named():
    marked = {(str(b.page.relative_to(ROOT)), b.code.splitlines()[0]) for page in PAGES for b in blocks(page)
              if b.directive == "skip"}
    assert marked == SKIPS_EXPECTED


def test_shell_blocks_are_parsed_into_innatura_commands():
    code = ("pip install -c constraints.txt -e '.[all]' && innatura run   # the main job\n"
            "innatura run x.toml --citizen-strategy \"inflate(2.0)\" \\\n    --days 3\n"
            "python -m pytest -q\n")
    assert innatura_commands(code) == [["innatura", "run"],
                                       ["innatura", "run", "x.toml", "--citizen-strategy", "inflate(2.0)", "--days",
                                        "3"]]


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize(("page", "needs"), page_params())
def test_code_blocks_run_as_written(page: Path, needs: list[str], tmp_path: Path) -> None:
    missing = [module for module in needs if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"{page.name} needs {', '.join(missing)}")
    folder = checkout_like(tmp_path)
    session: PythonSession | None = None
    ran = 0
    try:
        for block in blocks(page):
            if block.directive == "skip":
                continue
            if block.directive == "write":
                (folder / block.arg).write_text(block.code, encoding="utf-8")
            elif block.lang == "python":
                session = session or PythonSession(folder)
                session.run(block)
                ran += 1
            elif block.lang in RUNNERS:
                for command in innatura_commands(block.code):
                    run_command(command, block, folder)
                    ran += 1
    finally:
        if session is not None:
            session.close()
    print(f"{page.relative_to(ROOT)}: {ran} blocks and commands ran")
