"""Runs the benchmarks named on the command line, or all of them."""

from __future__ import annotations

import argparse
import importlib
import sys

# Module names under bench/, in the order `make bench` runs them.
BENCHMARKS: tuple[str, ...] = (
    "transcode",
    "search",
    "api",
    "playback",
    "events",
    "recommend",
    "home",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHMARKS) or 'none yet'}")
    parser.add_argument("--quick", action="store_true", help="a short run with small inputs")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}")
    names = args.names or list(BENCHMARKS)
    if not names:
        print("no benchmarks are registered yet")
        return 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.run(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
