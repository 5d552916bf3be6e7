"""On-disk cache of random economies for benchmarks (``.npz`` files keyed by parameters).

Generating the largest OLIN-EP economy takes tens of seconds; benchmarks load it from here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from innatura.planner.atomic import atomic_path
from innatura.scenarios.generators import RandomEconomy, random_economy

__all__ = ["cached_random_economy"]

logger = logging.getLogger(__name__)


def _cache_key(params: dict) -> str:
    blob = json.dumps(params, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cached_random_economy(
    n_industrial: int,
    n_final: int,
    inputs_per_good: int,
    n_profiles: int = 200,
    *,
    cyclic: bool = False,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = ".bench-cache",
    progress: bool = False,
) -> RandomEconomy:
    """:func:`random_economy` with ``rng = np.random.default_rng(seed)``, cached on disk.

    The economy is stored as an uncompressed ``.npz`` (CSR arrays, ``d`` and the metadata) in
    ``cache_dir``, keyed by the parameters and the seed, and written atomically (temporary file,
    then rename). ``cache_dir=None`` disables the cache.
    """
    params = {
        "n_industrial": int(n_industrial),
        "n_final": int(n_final),
        "inputs_per_good": int(inputs_per_good),
        "n_profiles": int(n_profiles),
        "cyclic": bool(cyclic),
        "seed": int(seed),
        "version": 1,
    }
    path = None
    if cache_dir is not None:
        kind = "cyclic" if cyclic else "seed"
        name = (f"economy-{n_industrial}-{n_final}-{inputs_per_good}-{n_profiles}-{kind}-s{seed}-"
                f"{_cache_key(params)}.npz")
        path = Path(cache_dir) / name
        if path.exists():
            try:
                return _load(path)
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("ignoring unreadable cache file %s: %s", path, exc)
    econ = random_economy(
        n_industrial,
        n_final,
        inputs_per_good,
        n_profiles,
        cyclic=cyclic,
        rng=np.random.default_rng(seed),
        progress=progress,
    )
    if path is not None:
        _save(path, econ)
    return econ


def _save(path: Path, econ: RandomEconomy) -> None:
    meta = np.array(
        [econ.n_industrial, econ.n_final, econ.n_profiles, econ.inputs_per_good, int(econ.cyclic)], dtype=np.int64
    )
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(
            tmp,
            data=econ.A.data,
            indices=econ.A.indices,
            indptr=econ.A.indptr,
            d=econ.d,
            meta=meta,
            spectral_radius=np.array(econ.spectral_radius),
        )


def _load(path: Path) -> RandomEconomy:
    with np.load(path) as z:
        n_ind, n_fin, P, k, cyc = (int(v) for v in z["meta"])
        N = n_ind + n_fin + P
        A = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(N, N))
        A.has_sorted_indices = True
        return RandomEconomy(
            A=A,
            d=z["d"],
            n_industrial=n_ind,
            n_final=n_fin,
            n_profiles=P,
            inputs_per_good=k,
            cyclic=bool(cyc),
            spectral_radius=float(z["spectral_radius"]),
        )
