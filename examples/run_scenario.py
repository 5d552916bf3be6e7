"""Run a scenario file and print how the economy fared.

    python examples/run_scenario.py                          # examples/scenarios/bakery.toml
    python examples/run_scenario.py my.toml --days 60 --seed 3

The tutorial "Write your own scenario and run it" builds the bakery file step by step.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import innatura

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(HERE / "scenarios" / "bakery.toml"))
    parser.add_argument("--days", type=int, default=None, help="days to simulate (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    options = {} if args.days is None else {"days": args.days}
    model = innatura.PlanningEconomy(args.scenario, rng=args.seed, **options)
    model.run_model()
    frame = model.model_frame()
    fed = frame.loc[frame["humanity"] >= 0.999, "day"]
    print(f"{model.spec.name}: {model.day} days, seed {args.seed}")
    print(f"humanity: day 1 {frame['humanity'].iloc[0]:.3f}, last day {frame['humanity'].iloc[-1]:.3f}; "
          f"everyone fed from day {fed.iloc[0] if len(fed) else 'never'}")
    print(f"cumulative externalities {frame['externalities'].iloc[-1]:.1f}; "
          f"invariant violations {int(frame['invariant_violations'].sum())}")


if __name__ == "__main__":
    main()
