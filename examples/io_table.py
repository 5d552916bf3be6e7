"""A real input-output table as a planned economy: BEA summary tables of the US, 2022.

    python examples/io_table.py [--days 10] [--out us.toml]

Reads the shipped table, checks the Leontief solution against the table's own gross output,
writes the scenario file that ``innatura import-io`` would write, and runs it. The tutorial
"Turn a real IO table into a scenario" explains each step.
"""

from __future__ import annotations

import argparse

from innatura.scenarios import dump_toml
from innatura.scenarios.io_tables import data_path, load_table
from innatura.scenarios.io_tables.solve import solve_table
from innatura.scenarios.io_tables.to_scenario import table_to_spec

import innatura


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--out", default="us.toml")
    args = parser.parse_args()

    table = load_table(data_path("bea_summary_2022"), format="bea")
    check = solve_table(table)
    print(f"{table.name}: {table.n} industries; spectral radius {check.spectral_radius:.3f}; "
          f"(I - A)^-1 f against gross output: relative error {check.relative_error:.1e}")

    clipped = load_table(data_path("bea_summary_2022"), format="bea", negative_policy="clip")
    spec = table_to_spec(clipped, "us", population=args.population)
    dump_toml(spec, args.out)
    print(f"wrote {args.out}: {len(spec.goods)} goods, {len(spec.units)} units, {len(spec.profiles)} profiles")

    model = innatura.PlanningEconomy(args.out, rng=0, days=args.days)
    model.run_model()
    frame = model.model_frame()
    print(frame[["day", "humanity", "min_fulfilment", "plan_error"]].to_string(index=False))


if __name__ == "__main__":
    main()
