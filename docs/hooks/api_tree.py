"""MkDocs hook: a tree of links under the installed names, for the API reference.

The layer folders install under one import name through setuptools' ``package_dir``
(``planner/`` is ``innatura.planner``), which griffe, reading source files, does not follow.
So the build links them into ``build/api-tree/innatura/{planner,scenarios,abm,viz,cli,...}``
(as ``.ci/mypy.sh`` does for mypy) and mkdocstrings reads the sources from there
(``paths: [build/api-tree]`` in ``mkdocs.yml``).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.api_tree")

#: installed name under ``innatura`` -> folder of the repository
LAYERS = {"planner": "planner", "scenarios": "scenarios", "abm": "abm", "viz": "viz"}
#: where the tree goes, relative to the repository (``build/`` is ignored by git)
TREE = Path("build") / "api-tree"


def build_tree(repo: Path, tree: Path) -> Path:
    """Link ``repo/innatura/*`` and the layer folders into ``tree/innatura``; return ``tree``."""
    if tree.exists():
        shutil.rmtree(tree)
    package = tree / "innatura"
    package.mkdir(parents=True)
    for entry in sorted((repo / "innatura").iterdir()):
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry.resolve())
    for name, folder in LAYERS.items():
        (package / name).symlink_to((repo / folder).resolve(), target_is_directory=True)
    return tree


#: the repository: this file is ``docs/hooks/api_tree.py``
REPO = Path(__file__).resolve().parents[2]


def on_startup(*, command: str, dirty: bool) -> None:
    # before any plugin's ``on_config``: mkdocstrings drops search paths that do not exist yet
    tree = build_tree(REPO, REPO / TREE)
    log.debug("API tree of links in %s (mkdocs %s)", tree, command)
