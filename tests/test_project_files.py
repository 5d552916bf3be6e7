"""The project's own files: the version the command line prints, the licence, the changelog,
the citation file, and the build hooks of the documentation (the command-line reference they
generate, the Sphinx roles they turn into links)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from docs_support import ROOT, load_hook

import innatura
from innatura.cli import COMMANDS, main

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_on_the_command_line(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"innatura {innatura.__version__}"
    done = subprocess.run([sys.executable, "-m", "innatura", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"innatura {innatura.__version__}"


def test_the_installed_version_is_the_project_version():
    assert innatura.__version__ == PYPROJECT["project"]["version"]


def test_licence_is_mit_as_the_package_says():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "innatura developers" in text
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}


def test_changelog_has_an_unreleased_section_and_the_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert any(h.startswith(PYPROJECT["project"]["version"]) for h in headings)


def test_citation_names_the_software_and_the_source_papers():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["version"] == PYPROJECT["project"]["version"] and cff["license"] == "MIT"
    titles = {ref["title"] for ref in cff["references"]}
    for title in ("Artificial Intelligence inspired methods for the allocation of common goods and services",
                  "Open Loop In Natura Economic Planning",
                  "Modeling Incomplete Economic Socialism using Deep Learning",
                  "Welfare Maximization in Competitive Equilibrium: Reinforcement Learning for Markov Exchange "
                  "Economy"):
        assert title in titles
    assert any("Bureau of Economic Analysis" in str(ref["authors"]) for ref in cff["references"])
    assert any("World Input-Output Database" in ref["title"] for ref in cff["references"])
    for ref in cff["references"]:
        assert ref["authors"] and ref["type"]


def test_the_command_line_reference_covers_every_command():
    hook = load_hook("cli_reference")
    text = hook.reference()
    for name, entry in COMMANDS.items():
        for sub in entry if isinstance(entry, dict) else [None]:
            title = f"## innatura {name}" + (f" {sub}" if sub else "")
            assert title in text
            assert f"usage: innatura {name}" + (f" {sub}" if sub else "") in text
    assert "--version" in text
    page = hook.on_page_markdown("intro\n\n<!-- cli-reference -->\n", page=None)
    assert page.startswith("intro") and "<!-- cli-reference -->" not in page


def test_sphinx_roles_become_optional_links():
    pytest.importorskip("griffe")
    roles = load_hook("griffe_roles")

    class Obj:  # the little of a griffe object the rewrite reads
        def __init__(self, path, parent=None, module=False, package=False, cls=False, members=()):
            self.path, self.parent, self.is_module, self.is_class = path, parent, module, cls
            self.is_package = self.is_init_module = package
            self.members = dict.fromkeys(members)

    package = Obj("innatura.abm.adversarial", module=True, package=True, members=["parse_strategy"])
    module = Obj("innatura.abm.adversarial.vocabulary", parent=package, module=True, members=["DEFENCES"])
    func = Obj("innatura.abm.adversarial.vocabulary.parse_defences", parent=module)
    text = roles.rewrite("See :class:`~abm.agents.Region`, :mod:`.vocabulary`, :data:`DEFENCES`, "
                         ":func:`innatura.solve_io` and::\n\n    code\n", func)
    assert '<autoref identifier="innatura.abm.agents.Region" optional><code>Region</code></autoref>' in text
    assert 'identifier="innatura.abm.adversarial.vocabulary" optional><code>.vocabulary</code>' in text
    assert 'identifier="innatura.abm.adversarial.vocabulary.DEFENCES"' in text
    assert 'identifier="innatura.solve_io"' in text
    assert "and:\n\n    code" in text and "::" not in text.replace("innatura", "")
