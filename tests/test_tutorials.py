"""The tutorials run: each notebook (jupytext percent format) executes in a fresh Jupyter
kernel, in a folder with decoy ``scenarios/`` and ``abm/`` packages, as the site's build runs it
(through the same hook, ``docs/hooks/tutorials.py``), and renders to a page with its figures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from docs_support import ROOT, TUTORIALS, decoy_folder, load_hook

pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = [pytest.mark.docs, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def hook():
    return load_hook("tutorials")


def test_there_are_five_tutorials():
    assert [p.name[:2] for p in TUTORIALS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path: Path, hook, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = hook.read(path)
    folder = decoy_folder(tmp_path)
    start = time.perf_counter()
    hook.execute(notebook, folder)
    seconds = time.perf_counter() - start
    print(f"{path.name}: executed in {seconds:.1f} s")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.get("execution_count") for cell in code)
    errors = [o for cell in code for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    page, images = hook.to_markdown(notebook, path.stem)
    assert images, "every tutorial draws at least one figure"
    assert all(data[:8] == b"\x89PNG\r\n\x1a\n" for data in images.values())
    assert page.count("```python") == len([c for c in code if c.source.strip()])
    if path.stem.startswith("01-"):
        # the file the tutorial writes is the one examples/ ships (comments aside)
        import innatura

        written = innatura.load_scenario(folder / "bakery.toml")
        assert written == innatura.load_scenario(ROOT / "examples" / "scenarios" / "bakery.toml")


def test_a_failing_cell_fails_the_build(hook, tmp_path: Path) -> None:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import scenarios")])
    with pytest.raises(CellExecutionError, match="the folder scenarios/ of the current directory"):
        hook.execute(notebook, decoy_folder(tmp_path))
