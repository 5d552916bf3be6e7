"""Griffe extension: Sphinx roles in docstrings become links of the API reference.

The docstrings name other objects the Sphinx way, ``:class:`~abm.agents.Region```,
``:func:`planner.daily_plan.plan_day```, ``:mod:`.vocabulary```, which Markdown would show
literally. This extension rewrites each role into an *optional* cross-reference of
mkdocs-autorefs: a link where the reference documents the object, plain code elsewhere (an
optional reference never fails the build). Targets are read as the docstrings write them: under
the installed name (``abm.agents.Region`` is ``innatura.abm.agents.Region``), relative to the
current module (``.vocabulary``), or a name of the current module or class (``METHODS``).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

#: ``:role:`target``` or ``:role:`~target``` (``:py:role:`` too)
ROLE = re.compile(r":(?:py:)?(?P<role>class|func|meth|mod|data|attr|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`<>]+)`")
#: a paragraph that ends with "::" and a blank line (a reStructuredText literal block follows)
RST_LITERAL = re.compile(r"(?<=\S)::\n[ \t]*\n")
#: the first names of targets written under the layers' installed names
LAYERS = ("planner", "scenarios", "abm", "viz", "cli")


def _module(obj: Any) -> Any:
    while not getattr(obj, "is_module", False) and obj.parent is not None:
        obj = obj.parent
    return obj


def qualify(target: str, obj: Any) -> str:
    """The full identifier of ``target`` as written in ``obj``'s docstring."""
    target = target.strip().rstrip("()")
    if target.startswith("innatura."):
        return target
    module = _module(obj)
    if target.startswith("."):
        dots = len(target) - len(target.lstrip("."))
        parts = module.path.split(".")
        if not (module.is_init_module or module.is_package):
            parts = parts[:-1]
        parts = parts[: len(parts) - (dots - 1)]
        return ".".join([*parts, target.lstrip(".")])
    first = target.split(".", 1)[0]
    if first in LAYERS:
        return f"innatura.{target}"
    owner = obj if obj.is_class or obj.parent is None else obj.parent
    if first in owner.members:
        return f"{owner.path}.{target}"
    return f"{module.path}.{target}"


def rewrite(text: str, obj: Any) -> str:
    """``text`` with every Sphinx role replaced by an optional cross-reference."""

    def link(match: re.Match) -> str:
        target = match["target"].strip()
        shown = target.lstrip(".").rsplit(".", 1)[-1] if match["tilde"] else target
        identifier = html.escape(qualify(target, obj), quote=True)
        return f'<autoref identifier="{identifier}" optional><code>{html.escape(shown)}</code></autoref>'

    # reStructuredText's "::" before a literal block reads as one colon in Markdown
    return RST_LITERAL.sub(":\n\n", ROLE.sub(link, text))


class SphinxRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring (see the module's docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = rewrite(obj.docstring.value, obj)
