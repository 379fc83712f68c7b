"""Command line: `python -m okapi {validate,import,simulate,analyze,disclosure-scan,...}`.

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

    importer = sub.add_parser(
        "import", help="convert a Stata, SAS, SPSS, Excel or CSV extract into the codebook's schema via a mapping",
        description="Read SOURCE files as the data holder keeps them and write patients.csv, visits.csv, "
                    "ketamine.csv and SHA256SUMS in the codebook's schema, as the mapping says. Nothing is written "
                    "unless the result passes `okapi validate`. Exit codes: 0 done; 1 the result breaks a codebook "
                    "rule; 2 usage; 3 a source cannot be read; 4 the mapping is malformed; 5 unknown source, sheet "
                    "or column; 6 a value without recode; 7 a date that does not parse; 8 a duplicated (month) "
                    "column; 9 a value not of the codebook type; 10 --out inside a source's folder; 11 an extract "
                    "already in --out (use --force).")
    importer.add_argument("sources", nargs="*", metavar="SOURCE",
                          help=".csv/.txt, .xlsx, .dta, .sav, .sas7bdat or .xpt file(s)")
    importer.add_argument("--mapping", required=True,
                          help="the mapping file (TOML); with --template, where to write it")
    importer.add_argument("--out", help="folder for the extract (outside the sources' folders)")
    importer.add_argument("--template", action="store_true",
                          help="write a mapping skeleton from the codebook (listing the SOURCE files' columns)")
    importer.add_argument("--dry-run", action="store_true", help="read, convert and check; write nothing")
    importer.add_argument("--force", action="store_true", help="replace an existing extract (or template)")

    scan = sub.add_parser(
        "disclosure-scan", help="check a built book (HTML) and ledger JSON for disclosive outputs of a real extract",
        description="The output check a secure research environment does before release: counts below 5 (and "
                    "differences of shown counts that recover one), minima and maxima, patient-level rows, figures "
                    "that draw patients one by one. Exit codes: 0 no finding; 1 findings (printed with file, place "
                    "and kind, never the value); 2 nothing to scan.")
    scan.add_argument("build_dir", help="the built HTML folder (e.g. _build/extract-book/_build/html)")
    scan.add_argument("--ledger", help="a ledger JSON written by `okapi analyze` (those beside the HTML are scanned "
                                       "anyway)")
    scan.add_argument("--extract", help="the extract whose patient identifiers are searched for (default with "
                                        "--real-only: OKAPI_DATA_DIR)")
    scan.add_argument("--notebooks", help="the book folder: its executed notebooks' figures are checked too")
    scan.add_argument("--real-only", action="store_true",
                      help="scan only when OKAPI_DATA_DIR names a real extract (the Makefile's book target)")

    analyze = sub.add_parser("analyze", help="run every analysis of the book and write the reproduction ledger")
    analyze.add_argument("path", help="folder holding patients.csv, visits.csv, ketamine.csv")
    analyze.add_argument("--out", required=True, help="JSON file for the ledger (id, estimate, CI, P, verdict)")

    study = sub.add_parser(
        "simulation-study", help="the validation appendix's simulation study: bias, RMSE, coverage, class recovery",
        description="Simulate cohorts from the book's generator and analyse each as the chapters do. The replicates "
                    "and the truths are independent tasks, run on --workers processes of this machine, or on a Dask "
                    "cluster with --scheduler. Each task carries its own seed, so the results do not depend on the "
                    "number of workers, on the scheduler or on which worker ran what: a run on a cluster writes the "
                    "same numbers as a run on a laptop.")
    study.add_argument("--replicates", type=int, default=200, help="simulated cohorts (default: 200, as in the book)")
    study.add_argument("--workers", type=int, default=2,
                       help="processes on this machine (default: 2; ignored with a scheduler); results do not depend "
                            "on it")
    study.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run the tasks on the Dask cluster of this scheduler (default: the environment variable "
                            "OKAPI_DASK_SCHEDULER if set, else this machine); results do not depend on it")
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
    if args.command == "import":
        from pathlib import Path

        from okapi.data.import_command import run_import, write_template

        sources = [Path(source) for source in args.sources]
        if args.template:
            return write_template(Path(args.mapping), sources, args.force)
        if not sources:
            parser.error("import: give at least one SOURCE file (or --template)")
        return run_import(sources, Path(args.mapping), Path(args.out) if args.out else None, args.dry_run, args.force)
    if args.command == "disclosure-scan":
        from okapi.book.disclosure_scan import run_disclosure_scan_command

        return run_disclosure_scan_command(args.build_dir, args.ledger, args.extract, args.notebooks, args.real_only)
    if args.command == "analyze":
        from okapi.simulation.ledger_run import run_analyze_command

        return run_analyze_command(args.path, args.out)
    if args.command == "simulation-study":
        from okapi.simulation.study import run_simulation_study_command

        return run_simulation_study_command(args.replicates, args.workers, args.out, args.scheduler)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
