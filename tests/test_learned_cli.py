"""``innatura train learned`` and ``innatura experiment learned-ablation`` end to end (tiny settings)."""

import csv
import subprocess
import sys

import pytest

pytestmark = pytest.mark.learn
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.planner.learned import load_checkpoint  # noqa: E402

from innatura.cli import main  # noqa: E402


def test_train_learned_writes_a_reloadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "learned", "--episodes", "3", "--batch-size", "4", "--seed", "2", "--out", str(out),
                 "--quiet"]) == 0
    for name in ("model.pt", "config.json", "history.csv", "training_curve.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "training_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _policy, cfg = load_checkpoint(out)
    assert cfg.train.seed == 2 and cfg.train.episodes == 3
    with open(out / "history.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 3


def test_learned_ablation_writes_csv_and_markdown(tmp_path):
    out = tmp_path / "abl"
    code = main(["experiment", "learned-ablation", "--seeds", "2", "--episodes", "2", "--eval-batch", "4",
                 "--oracle-steps", "5", "--misreport-share", "0.4", "--out", str(out), "--quiet"])
    assert code == 0
    with open(out / "ablation.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["model"] for r in rows] == ["Base Model", "+ IC, IR, Ostrom", "Equal split", "Greedy on reports",
                                          "Full-information oracle"]
    for col in ("utility", "utility_std", "ic_penalty", "ic_penalty_std", "allocation_variance",
                "allocation_variance_std"):
        assert all(r[col] != "" and float(r[col]) >= -1e9 for r in rows), col
    assert float(rows[2]["ic_penalty"]) == 0.0
    md = (out / "ablation.md").read_text()
    assert "| Model | Final Utility | IC Penalty | Variance (Allocations) |" in md


def test_bad_arguments_are_reported(tmp_path, capsys):
    assert main(["experiment", "learned-ablation", "--misreport-share", "1.5", "--out", str(tmp_path)]) == 2
    assert "misreport-share" in capsys.readouterr().err


def test_planner_does_not_import_torch_and_learned_does_not_import_mesa():
    code = ("import sys, innatura.planner; assert 'torch' not in sys.modules; import innatura.planner.learned; "
            "bad = [m for m in ('mesa', 'innatura.abm', 'innatura.scenarios', 'innatura.viz') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
