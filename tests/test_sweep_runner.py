"""The resumable sweep runner: run ids, atomic results, resume, local vs Dask identity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from innatura.abm.sweep import collect_runs, run_id, run_sweep
from innatura.planner.errors import InvalidInputError


def noisy_sum(config: dict) -> dict:
    """A deterministic function of the config's seed (stands in for a simulation)."""
    rng = np.random.default_rng(config["seed"])
    return {"value": float(rng.normal() + config["share"]), "n": 3}


CONFIGS = [{"share": s, "seed": seed} for s in (0.0, 0.1, 0.4) for seed in (1, 2)]


def test_run_id_is_canonical_and_sensitive():
    assert run_id({"a": 1, "seed": 2}) == run_id({"seed": 2, "a": 1})
    assert run_id({"a": 1, "seed": 2}) != run_id({"a": 1, "seed": 3})
    with pytest.raises(InvalidInputError, match="not plain JSON"):
        run_id({"a": object(), "seed": 1})


def test_local_sweep_writes_every_run_and_resumes(tmp_path):
    first = run_sweep(CONFIGS[:4], noisy_sum, tmp_path, local=True, progress=False)
    assert len(first.ran) == 4 and not first.skipped
    second = run_sweep(CONFIGS, noisy_sum, tmp_path, local=True, progress=False)
    assert len(second.skipped) == 4 and len(second.ran) == 2
    table = pd.read_parquet(tmp_path / "runs.parquet")
    assert len(table) == 6 and set(table.run_id) == {run_id(c) for c in CONFIGS}
    assert not list((tmp_path / "runs").glob("*.tmp"))


def test_duplicate_configs_run_once_and_missing_seed_is_refused(tmp_path):
    res = run_sweep(CONFIGS[:1] * 3, noisy_sum, tmp_path, local=True, progress=False)
    assert len(res.ran) == 1
    with pytest.raises(InvalidInputError, match="seed"):
        run_sweep([{"share": 0.1}], noisy_sum, tmp_path, local=True, progress=False)


def test_metric_clashing_with_config_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(InvalidInputError, match="clash"):
        run_sweep([{"share": 0.0, "value": 1, "seed": 1}], noisy_sum, tmp_path, local=True, progress=False)
    assert collect_runs(tmp_path).empty


@pytest.mark.distributed
def test_dask_local_cluster_gives_the_same_results_as_local(tmp_path):
    pytest.importorskip("distributed")
    local = run_sweep(CONFIGS, noisy_sum, tmp_path / "local", local=True, progress=False).table
    dask = run_sweep(CONFIGS, noisy_sum, tmp_path / "dask", n_workers=2, progress=False).table
    pd.testing.assert_frame_equal(local, dask)
    record = json.loads(next((tmp_path / "dask" / "runs").glob("*.json")).read_text())
    assert {"run_id", "share", "seed", "value", "n"} <= set(record)
