"""The ``parley`` command line (a shell around the sans-IO core)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description="Parley v1 secure file transfer")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="show a Parley session in both suites")
    d.add_argument("--in-process", action="store_true", help="no sockets (the default for now)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import demo
        return demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
