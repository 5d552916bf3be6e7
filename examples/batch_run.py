"""A parameter sweep with Mesa's ``batch_run``: misreporting share x seed on the butter village.

    python examples/batch_run.py

``PlanningEconomy`` takes every option as a keyword and stops after its ``days``, so
``mesa.batch_run`` sweeps it like any Mesa model; the seeds are a parameter too (``rng``).
"""

from __future__ import annotations

import mesa
import pandas as pd

import innatura


def main() -> None:
    results = mesa.batch_run(
        innatura.PlanningEconomy,
        parameters={"scenario": "butter-village", "days": 8, "misreport_share": [0.0, 0.2, 0.4],
                    "citizen_strategy": "inflate(2.0)", "unit_strategy": "honest", "rng": [0, 1]},
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    print(frame.groupby("misreport_share")[["humanity", "unmet_demand"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
