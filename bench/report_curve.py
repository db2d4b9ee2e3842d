"""How `check_report` grows with a report's length: a script, not a test.

Each source report is repeated k times (1, 2, 4 … by default; a .docx its body), and
`check_report` runs on it in a fresh process, which prints its time and its own peak
resident memory (VmHWM). Growth is linear when both double with k; the ratio columns show
each step against the one before.

    python bench/report_curve.py                       # the bundled report and the seed
    python bench/report_curve.py --k 1,2,4,8,16,32 --source path/to/report.txt
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = (
    REPO / "data/raw/2022/530100-disability-employment/report.txt",
    REPO / "data/raw/2022/530100-disability-employment/report.docx",
    REPO.parent / "shared/seeds/000_8efdcb375633a8df.txt",
)
PROGRAMME = REPO / "data/raw/2022/530100-disability-employment/programme.yaml"

CHILD = """
import json, sys, time
from pathlib import Path
from jixiao.checks.report_check import check_report
from jixiao.ingest.report import ReportError
from jixiao.schemas.programme import load_programme

programme = load_programme(Path(sys.argv[2])) if sys.argv[2] else None
started = time.perf_counter()
try:
    audit = check_report(Path(sys.argv[1]), programme)
    out = {"claims": len(audit.claims), "findings": len(audit.findings)}
except ReportError as error:
    out = {"refused": str(error)}
seconds = time.perf_counter() - started
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps(out | {"seconds": seconds, "rss_mb": hwm / 1024}, ensure_ascii=False))
"""


def measure(path: Path, programme: Path | None) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(programme or "")],
        capture_output=True, text=True, cwd=REPO, check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    return json.loads(result.stdout)


def baseline_mb() -> float:
    """The child's peak before any report: the interpreter and the imports."""
    code = CHILD.split("programme = ")[0] + (
        "print(next(int(l.split()[1]) for l in open('/proc/self/status')"
        " if l.startswith('VmHWM:')) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    return float(out.stdout)


def repeated(source: Path, k: int, path: Path) -> Path:
    """``source`` k times over: a text's lines, or a .docx's body (its final section kept)."""
    if source.suffix != ".docx":
        path.write_text("\n".join([source.read_text(encoding="utf-8-sig")] * k), encoding="utf-8")
        return path
    with (
        zipfile.ZipFile(source) as package,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for entry in package.infolist():
            data = package.read(entry)
            if entry.filename == "word/document.xml":
                xml = data.decode()
                start, end = xml.index("<w:body>") + len("<w:body>"), xml.rindex("<w:sectPr")
                data = (xml[:start] + xml[start:end] * k + xml[end:]).encode()
            out.writestr(entry, data)
    return path


def curve(source: Path, ks: list[int], programme: Path | None, work: Path) -> None:
    """Print the Markdown table of one source's curve, a row per k as it is measured."""
    print(f"### {source.name} ({source.stat().st_size / 1024:.0f} KB once)\n")
    print(
        "| k | KB | seconds | × previous | peak RSS MB | above imports MB | × previous | claims |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    base = baseline_mb()
    previous = None
    for k in ks:
        path = repeated(source, k, work / f"{source.stem}.x{k}{source.suffix}")
        m = measure(path, programme)
        size = f"| {k} | {path.stat().st_size / 1024:,.0f} | {m['seconds']:.2f} |"
        if "refused" in m:
            print(f"{size} | {m['rss_mb']:.0f} | | | {m['refused']} |", flush=True)
            continue
        above = m["rss_mb"] - base
        t_ratio = f"{m['seconds'] / previous[0]:.2f}" if previous else ""
        r_ratio = f"{above / previous[1]:.2f}" if previous and previous[1] > 0 else ""
        print(f"{size} {t_ratio} | {m['rss_mb']:.0f} | {above:.0f} | {r_ratio} | {m['claims']:,} |",
              flush=True)  # fmt: skip
        previous = (m["seconds"], above)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", default="1,2,4,8,16,32", help="repetitions, comma-separated")
    parser.add_argument("--source", type=Path, action="append", help="report(s) to repeat")
    parser.add_argument("--no-programme", action="store_true", help="the default vocabulary")
    args = parser.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    programme = None if args.no_programme else PROGRAMME
    sources = args.source or [s for s in SOURCES if s.exists()]
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            curve(source, ks, programme, Path(tmp))
            print()


if __name__ == "__main__":
    main()
