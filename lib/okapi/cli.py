"""Command line: `python -m okapi {validate,simulate,...}`.

Each sub-command is a thin wrapper; the work is done by the same library functions the chapters call.
"""

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m okapi",
        description="Reproducible re-analysis of the OKAPI ketamine cohort (Voute et al., JAMA Netw Open 2023).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = sub.add_parser("validate", help="check an extract (folder or file) against the codebook")
    validate.add_argument("path", help="folder holding patients.csv, visits.csv, ketamine.csv (or one of them)")

    simulate = sub.add_parser("simulate", help="write a synthetic cohort in the codebook's schema")
    simulate.add_argument("--seed", type=int, default=None, help="random seed (default: the book's seed)")
    simulate.add_argument("--n", type=int, default=None, help="number of patients (default: 329)")
    simulate.add_argument("--out", required=True, help="output folder")
    simulate.add_argument("--force", action="store_true", help="overwrite existing cohort files in --out")

    analyze = sub.add_parser("analyze", help="run every analysis of the book and write the reproduction ledger")
    analyze.add_argument("path", help="folder holding patients.csv, visits.csv, ketamine.csv")
    analyze.add_argument("--out", required=True, help="JSON file for the ledger (id, estimate, CI, P, verdict)")

    study = sub.add_parser("simulation-study",
                           help="the validation appendix's simulation study: bias, RMSE, coverage, class recovery")
    study.add_argument("--replicates", type=int, default=200, help="simulated cohorts (default: 200, as in the book)")
    study.add_argument("--workers", type=int, default=2, help="processes (default: 2)")
    study.add_argument("--out", default=None, help="folder for CSV files: per-replicate estimates, performance, truths")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "validate":
        from okapi.data.validation import run_validate_command

        return run_validate_command(args.path)
    if args.command == "simulate":
        from okapi.synthetic.cohort import run_simulate_command

        return run_simulate_command(seed=args.seed, n=args.n, out=args.out, force=args.force)
    if args.command == "analyze":
        from okapi.simulation.ledger_run import run_analyze_command

        return run_analyze_command(args.path, args.out)
    if args.command == "simulation-study":
        from okapi.simulation.study import run_simulation_study_command

        return run_simulation_study_command(args.replicates, args.workers, args.out)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
