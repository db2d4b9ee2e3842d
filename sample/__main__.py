"""`python -m jixiao.sample [RAW_ROOT] [--seed N]`: regenerate the bundled sample (default data/raw)."""

from __future__ import annotations

import argparse
from pathlib import Path

from jixiao.sample.generate import write_sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jixiao.sample", description=__doc__)
    parser.add_argument("raw_root", nargs="?", type=Path, default=Path("data/raw"))
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args(argv)
    print(write_sample(args.raw_root, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
