#!/usr/bin/env bash
# mypy on the layers under their installed names (innatura.planner, innatura.abm, ...).
# The editable install maps the layer folders with setuptools' package-dir, which mypy does not
# follow; so it checks a temporary tree of links innatura/{planner,scenarios,abm,viz,cli,...}.
# Usage: .ci/mypy.sh -p innatura.abm -p innatura.scenarios ...   (arguments go to mypy)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$tree" "$work"' EXIT
mkdir "$tree/innatura"
for f in "$repo"/innatura/*; do ln -s "$f" "$tree/innatura/$(basename "$f")"; done
for layer in planner scenarios abm viz; do ln -s "$repo/$layer" "$tree/innatura/$layer"; done
# from an empty folder: run from the tree, mypy would find each module twice
cd "$work"
MYPYPATH="$tree" python3 -m mypy --config-file "$repo/pyproject.toml" "$@"
