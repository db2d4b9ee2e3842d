"""Benchmark jixiao on a national year: ``python bench/run.py --scale S --json OUT.json``.

Steps (bench/README.md says what each figure means):

1. generate the scale's data, or reuse it (bench/generate.py, cached under ``--data``);
2. the floor (bench/floor.py) in its own process;
3. the naive stack (bench/naive.py) in its own process, at the scale itself up to
   ``--naive-limit``, beyond it at the limit's scale and extrapolated linearly by rows;
4. jixiao in its own process (bench/jixiao_run.py): the same work as the nightly flow without
   Prefect (cold, timed per stage), Prefect's temporary server started by a flow run over an
   empty folder, the nightly flow cold (``full_run_s``), 1% of the county files changed and
   the flow again (``incremental_s``), and ``check-report`` on the report ten times the
   seed's length; with ``--dask``, the nightly flow cold on a Dask LocalCluster as well
   (``dask_run_s``, after a warm-up on the sample that measures its fixed cost);
5. the figures as JSON (``--json``) and Markdown (``--md``, and printed), each beside the
   floor; ``--curve 0.25,0.5,1,2`` adds the full run at each scale, each in a fresh process.

Every phase runs in its own process, so each peak RSS (``ru_maxrss``) is that phase's own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import generate as gen  # noqa: E402

DEFAULT_DATA = REPO / "bench" / "data"
DEFAULT_WORK = REPO / "bench" / "work"
SEED_REPORT = REPO.parent / "shared" / "seeds" / "000_8efdcb375633a8df.txt"
REQUIRED = ("scale", "rows", "files", "full_run_s", "floor_s", "naive_s", "incremental_s", "nochange_s",
            "peak_rss_mb", "prefect_overhead_s", "stages", "sample_run_s", "sample_floor_s",
            "sample_cli_s")  # fmt: skip
STAGES = ("read", "contract", "load", "checks", "gx", "score", "publish", "other")
SAMPLE_RUNS = 5  # the bundled sample's runs, jixiao's and the floor's: each figure their median
NOCHANGE_RUNS = 3  # nights with nothing changed: a 1 s figure is one pause of the machine from 2


def _median_run(runs: list[tuple]) -> tuple:
    """The run of median seconds (each run's first field), whole: its stages go with it."""
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _key() -> bytes:
    from jixiao.ingest.personal import load_or_create_key

    return load_or_create_key(lambda *_: None)


def _env(work: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("JIXIAO_HASH_KEY_FILE", str(work / "hash.key"))
    if not env.get("PREFECT_API_URL"):  # a temporary server of our own, its state in work/
        env.setdefault("PREFECT_HOME", str(work / "prefect"))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    return env


def _phase(name: str, args: argparse.Namespace, scale: float, work: Path,
           extra: list[str] = ()) -> dict:  # fmt: skip
    """Run one phase in a fresh interpreter; returns its JSON."""
    part = work / f"{name}.json"
    part.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--scale", str(scale),
           "--data", str(args.data), "--work", str(work), "--part", str(part), *extra]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"{name}.log"
    print(f"[bench] {name} at scale {scale:g} … (log: {log})", flush=True)
    os.sync()  # the phase before's writes are not this one's to wait for
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, env=_env(work), cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0 or not part.exists():
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"bench phase {name} failed (exit {proc.returncode}); see {log}")
    out = json.loads(part.read_text(encoding="utf-8"))
    out["process_s"] = round(time.perf_counter() - started, 3)
    print(f"[bench] {name} done in {out['process_s']:.1f} s", flush=True)
    return out


# ---------------------------------------------------------------- phases (child processes)


def phase_floor(args: argparse.Namespace) -> dict:
    from bench.floor import run_floor
    from jixiao.sample.generate import write_sample

    folder = gen.programme_dir(gen.scale_dir(args.data, args.scale))
    out = run_floor(folder, args.work / "floor" / "floor.duckdb", args.work / "floor", _key())
    # The bundled sample after the scale's run (so warm, as jixiao's sample run is): the floor
    # refuses the files in forms it does not read (clerk layouts, names), so it loads less.
    sample = args.work / "floor" / "sample"
    shutil.rmtree(sample, ignore_errors=True)
    raw, runs = write_sample(sample / "raw"), []
    for n in range(SAMPLE_RUNS):  # each on a fresh database, as jixiao's sample runs are
        runs.append(run_floor(raw, sample / f"floor{n}.duckdb", sample / str(n), _key()))
    times = [r["floor_s"] for r in runs]
    return out | {"peak_rss_mb": _rss_mb(), "sample_floor_s": statistics.median(times),
                  "sample_floor_runs_s": times,
                  "sample_floor_rows": sum(runs[0]["rows"].values())}  # fmt: skip


def phase_naive(args: argparse.Namespace) -> dict:
    from bench.naive import run_naive

    folder = gen.programme_dir(gen.scale_dir(args.data, args.scale))
    out = run_naive(folder, args.work / "naive" / "naive.duckdb", _key())
    return out | {"peak_rss_mb": _rss_mb()}


def _check_report_cli(path: Path, programme: Path, work: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "jixiao.flows.cli", "check-report", str(path), "--programme",
         str(programme), "--format", "json"],
        env=_env(work), cwd=REPO, stdout=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    return round(time.perf_counter() - started, 3)


def _sample_cli(work: Path) -> float:
    """`jixiao run` over the bundled sample as a user types it (a fresh interpreter: imports
    included), reporting to the server this process already uses."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    from jixiao.sample.generate import write_sample

    write_sample(work / "raw")
    api = PREFECT_API_URL.value() or SubprocessASGIServer().api_url  # ours: the temporary one
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "jixiao.flows.cli", "run", "--raw", str(work / "raw"), "--db",
         str(work / "warehouse.duckdb"), "--out", str(work / "reports")],
        env=_env(work) | {"PREFECT_API_URL": api}, cwd=REPO, stdout=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    return round(time.perf_counter() - started, 3)


def phase_jixiao(args: argparse.Namespace) -> dict:
    import jixiao.flows  # noqa: F401 - jixiao's Prefect settings first
    from bench.jixiao_run import (
        Stages,
        dask_nightly,
        flow_nightly,
        plain_nightly,
        warehouse_counts,
    )
    from jixiao.checks.report_check import check_report
    from jixiao.schemas.programme import load_programme

    work = args.work / "jixiao"
    if work.exists():
        shutil.rmtree(work)
    raw = work / "raw"
    gen.link_tree(gen.scale_dir(args.data, args.scale) / "raw", raw)
    folder = gen.programme_dir(work)
    if args.short_report:  # CI: the national report once, without its repeated appendices
        report = folder / "report.txt"
        text = report.read_text(encoding="utf-8")
        short = report.with_name("report.short")
        short.write_text(text[: text.find("附件2\n")], encoding="utf-8")
        os.replace(short, report)  # a new file: the cached original is hard-linked
    out: dict = {"instrumentation_missing": []}
    stages = Stages().install()
    out["instrumentation_missing"] = stages.missing

    def timed(label: str, fn, *a) -> dict:
        stages.reset()
        # The writes of the run before (the Dask run's warehouse: 300 MB) flushed first, as
        # a day has flushed them before a night: else this run's commits wait behind them.
        os.sync()
        started = time.perf_counter()
        result = fn(*a)
        wall = time.perf_counter() - started
        out[f"{label}_s"] = round(wall, 3)
        out[f"{label}_stages"] = stages.summary(wall)
        print(f"[bench]   {label}: {wall:.2f} s", flush=True)
        return result

    # Warm-up on the bundled sample, so that neither measured run pays for first imports
    # (GX, pandera, calamine …): once without Prefect, then as a flow, which also starts
    # Prefect's temporary server (or connects to PREFECT_API_URL).
    from jixiao.sample.generate import write_sample

    warm = work / "warm"
    write_sample(warm / "raw")
    timed("warmup_plain", plain_nightly, warm / "raw", warm / "plain" / "warehouse.duckdb",
          warm / "plain" / "reports")  # fmt: skip
    timed("warmup_flow", flow_nightly, warm / "raw", warm / "flow" / "warehouse.duckdb",
          warm / "flow" / "reports")  # fmt: skip
    out["prefect_startup_s"] = round(out["warmup_flow_s"] - out["warmup_plain_s"], 3)
    # The sample as `jixiao demo` runs it the first time (a fresh warehouse), with the server
    # up: SAMPLE_RUNS times, the median run kept (on a shared machine one run is mostly load).
    # The process's CPU time beside each (all its threads; not Chromium's or the readers'):
    # what a busy machine stretches into the wall time.
    runs, cpu = [], []
    for n in range(SAMPLE_RUNS):
        clock = time.process_time()
        sample = timed("sample_run", flow_nightly, warm / "raw",
                       warm / f"sample{n}" / "warehouse.duckdb", warm / f"sample{n}" / "reports")  # fmt: skip
        cpu.append(round(time.process_time() - clock, 3))
        runs.append((out["sample_run_s"], out["sample_run_stages"]))
    out["sample_runs_s"], out["sample_cpu_s"] = [s for s, _ in runs], statistics.median(cpu)
    out["sample_run_s"], out["sample_run_stages"] = _median_run(runs)
    out["sample_load"] = [round(v, 2) for v in os.getloadavg()]
    out["sample_rows"] = sample["rows_loaded"]
    out["sample_cli_s"] = _sample_cli(work / "sample_cli")

    plain = timed("plain", plain_nightly, raw, work / "plain" / "warehouse.duckdb",
                  work / "plain" / "reports")  # fmt: skip
    out["plain_files"] = {"accepted": plain["files_accepted"], "refused": plain["files_refused"],
                          "rows_loaded": plain["rows_loaded"]}  # fmt: skip
    db = work / "flow" / "warehouse.duckdb"
    full = timed("full_run", flow_nightly, raw, db, work / "flow" / "reports")
    out["full_run_files"] = {"accepted": full["files_accepted"], "refused": full["files_refused"],
                             "rows_loaded": full["rows_loaded"]}  # fmt: skip
    out["warehouse"] = warehouse_counts(db, gen.YEAR)
    out["warehouse_mb"] = round(db.stat().st_size / 2**20, 1)
    out["prefect_overhead_s"] = round(out["full_run_s"] - out["plain_s"], 3)
    # The same, from time outside the timed functions only (where Prefect's task machinery,
    # its API logging of every file and the artifact call run): less noisy on a busy machine.
    out["prefect_overhead_other_s"] = round(
        out["full_run_stages"]["stages"]["other"] - out["plain_stages"]["stages"]["other"], 3
    )
    if args.dask:  # before the incremental run changes the files
        from jixiao.ingest.intake import _cores

        timed("dask_warmup", dask_nightly, warm / "raw", warm / "dask" / "warehouse.duckdb",
              warm / "dask" / "reports")  # fmt: skip
        dask_db = work / "dask" / "warehouse.duckdb"
        timed("dask_run", dask_nightly, raw, dask_db, work / "dask" / "reports")
        out["dask_workers"] = _cores()
        out["dask_agree"] = warehouse_counts(dask_db, gen.YEAR) == out["warehouse"]
    if not args.only_full:
        # The nights after, nothing changed: recognised without reading a file or auditing;
        # the median night kept, as for the sample.
        nights = []
        for _ in range(NOCHANGE_RUNS):
            same = timed("nochange", flow_nightly, raw, db, work / "flow" / "reports")
            nights.append((out["nochange_s"], out["nochange_stages"], same["status"]))
        out["nochange_runs_s"] = [s for s, _, _ in nights]
        out["nochange_s"], out["nochange_stages"], _ = _median_run(nights)
        out["nochange_status"] = "/".join(sorted({status for *_, status in nights}))
        changed = gen.mutate_files(work, args.scale, 0.01)
        out["incremental_files"] = len(changed)
        inc = timed("incremental", flow_nightly, raw, db, work / "flow" / "reports")
        out["incremental_counts"] = {
            "accepted": inc["files_accepted"], "skipped": inc["files_skipped"],
            "refused": inc["files_refused"], "rows_loaded": inc["rows_loaded"],
        }  # fmt: skip
        stages.uninstall()
        programme = load_programme(folder / "programme.yaml")
        report = folder / "report.txt"
        started = time.perf_counter()
        audit = check_report(report, programme)
        out["check_report_s"] = round(time.perf_counter() - started, 3)
        out["check_report_claims"] = len(audit.claims)
        out["check_report_findings"] = len(audit.findings)
        out["report_bytes"] = report.stat().st_size
        seed = SEED_REPORT if SEED_REPORT.exists() else None
        if seed is None:  # the national report once, without its repeated appendices
            seed = work / "report_once.txt"
            text = report.read_text(encoding="utf-8")
            seed.write_text(text[: text.find("附件2\n")], encoding="utf-8")
        seed_times = []
        for _ in range(3):  # short: the best of three, so one pause does not make the ratio
            started = time.perf_counter()
            check_report(seed, programme)
            seed_times.append(time.perf_counter() - started)
        out["check_report_seed_s"] = round(min(seed_times), 3)
        out["seed_report"] = {"file": seed.name, "bytes": seed.stat().st_size}
        out["check_report_cli_s"] = (
            None
            if args.short_report  # CI: spare the extra interpreter
            else _check_report_cli(report, folder / "programme.yaml", work)
        )
    out["peak_rss_mb"] = _rss_mb()
    return out


# ---------------------------------------------------------------- the whole bench


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _read_through(root: Path) -> None:
    """Every generated file read once before the phases, so that the page cache holds them
    for each alike: the first phase would otherwise pay the disk alone (the floor's read once
    took 33 s instead of 14 after other work had pushed the files out)."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(1 << 20):
                    pass


def bench(args: argparse.Namespace, scale: float) -> dict:
    work = args.work / f"s{scale:g}"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_at_start = list(os.getloadavg())
    manifest = gen.generate(args.data, scale, log=lambda m: print(f"[bench] {m}", flush=True))
    generate_s = time.perf_counter() - started
    print(f"[bench] data at scale {scale:g}: {manifest['files']} files, "
          f"{manifest['rows']['total']} rows ({'cached' if manifest['cached'] else 'generated'} "
          f"in {generate_s:.1f} s)", flush=True)  # fmt: skip
    _read_through(gen.scale_dir(args.data, scale))
    floor = _phase("floor", args, scale, work)
    naive, naive_scale = None, None
    if not args.only_full:
        naive_scale = min(scale, args.naive_limit)
        if naive_scale < scale:
            gen.generate(args.data, naive_scale)
            _read_through(gen.scale_dir(args.data, naive_scale))
        naive = _phase("naive", args, naive_scale, work / "naive")
    prefect_home = Path(os.environ.get("PREFECT_HOME", ""))
    if prefect_home == args.work / "prefect" and prefect_home.exists():
        shutil.rmtree(prefect_home)  # our own temporary server's state: start from nothing
    flags = [f for f, on in (("--only-full", args.only_full), ("--short-report", args.short_report),
                             ("--dask", args.dask)) if on]  # fmt: skip
    jx = _phase("jixiao", args, scale, work, flags)

    rows = manifest["rows"]["total"]
    result: dict = {
        "scale": scale,
        "rows": rows,
        "rows_by_sheet": {k: manifest["rows"][k] for k in gen.SHEETS},
        "files": manifest["files"],
        "files_by_kind": manifest["files_by_kind"],
        "counties": manifest["counties"],
        "data_mb": round(manifest["bytes"] / 2**20, 1),
        "full_run_s": jx["full_run_s"],
        "floor_s": floor["floor_s"],
        "plain_run_s": jx["plain_s"],
        "prefect_overhead_s": jx["prefect_overhead_s"],
        "prefect_overhead_other_s": jx["prefect_overhead_other_s"],
        "prefect_startup_s": jx["prefect_startup_s"],
        "sample_run_s": jx["sample_run_s"],
        "sample_runs_s": jx["sample_runs_s"],
        "sample_cpu_s": jx["sample_cpu_s"],
        "sample_load": jx["sample_load"],
        "sample_stages": jx["sample_run_stages"]["stages"],
        "sample_stages_detail": jx["sample_run_stages"]["detail"],
        "sample_rows": jx["sample_rows"],
        "sample_cli_s": jx["sample_cli_s"],
        "sample_floor_s": floor["sample_floor_s"],
        "sample_floor_runs_s": floor["sample_floor_runs_s"],
        "sample_floor_rows": floor["sample_floor_rows"],
        "peak_rss_mb": jx["peak_rss_mb"],
        "floor_peak_rss_mb": floor["peak_rss_mb"],
        "stages": jx["plain_stages"]["stages"],
        "stages_detail": jx["plain_stages"]["detail"],
        "stages_flow": jx["full_run_stages"]["stages"],
        "floor_stages": floor["stages"],
        "warehouse_mb": jx["warehouse_mb"],
        "generate_s": manifest["generate_s"],
        "data_cached": manifest["cached"],
        "short_report": args.short_report,
    }
    if naive is not None:
        naive_rows = sum(naive["rows"].values())
        factor = rows / naive_rows if naive_rows else 1.0
        result |= {
            "naive_s": round(naive["naive_s"] * factor, 3),
            "naive_extrapolated": naive_scale < scale,
            "naive_measured_scale": naive_scale,
            "naive_measured_s": naive["naive_s"],
            "naive_stages": {k: round(v * factor, 3) for k, v in naive["stages"].items()},
            "naive_peak_rss_mb": naive["peak_rss_mb"],
            "naive_refused_files": naive["files"]["refused"],
            "naive_gx_unexpected_rows": naive["gx_unexpected_rows"],
        }
        result |= {
            "nochange_s": jx["nochange_s"],
            "nochange_runs_s": jx["nochange_runs_s"],
            "nochange_status": jx["nochange_status"],
            "nochange_stages": jx["nochange_stages"]["stages"],
            "nochange_stages_detail": jx["nochange_stages"]["detail"],
            "incremental_s": jx["incremental_s"],
            "incremental_files": jx["incremental_files"],
            "incremental_counts": jx["incremental_counts"],
            "incremental_stages": jx["incremental_stages"]["stages"],
            "check_report_s": jx["check_report_s"],
            "check_report_seed_s": jx["check_report_seed_s"],
            "check_report_cli_s": jx["check_report_cli_s"],
            "check_report_claims": jx["check_report_claims"],
            "check_report_findings": jx["check_report_findings"],
            "report_bytes": jx["report_bytes"],
            "seed_report": jx["seed_report"],
        }
    if args.dask:
        result |= {"dask_run_s": jx["dask_run_s"], "dask_workers": jx["dask_workers"],
                   "dask_agree": jx["dask_agree"],
                   "dask_country": dask_country(jx, rows / scale, rows)}  # fmt: skip
    f = floor["floor_s"]
    result["ratios"] = {
        k: _ratio(result.get(k), f)
        for k in ("full_run_s", "plain_run_s", "naive_s", "incremental_s", "nochange_s",
                  "prefect_overhead_s", "dask_run_s")  # fmt: skip
    }
    result["ratios"]["sample_run_s"] = _ratio(result["sample_run_s"], result["sample_floor_s"])
    if "check_report_s" in result:
        result["ratios"]["check_report_vs_seed"] = _ratio(
            result["check_report_s"], result["check_report_seed_s"]
        )
    comparable = sum(result["stages"][s] for s in ("read", "contract", "load")) + sum(
        v for k, v in result["stages_detail"].items() if k == "checks.records_sql"
    )
    result["records_path_s"] = round(comparable, 3)
    result["ratios"]["records_path_s"] = _ratio(comparable, f)
    wh = jx["warehouse"]
    result["agreement"] = {
        "rows": {"floor": floor["rows"], "jixiao": wh["rows"],
                 "naive": naive["rows"] if naive and naive_scale == scale else None},
        "findings": {"floor": floor["findings"], "jixiao": wh["findings"],
                     "expected": manifest["expected_findings"]},
        "floor_violations": floor["violations"],
        "jixiao_files": wh["files"],
        "metrics": {"floor": floor["metrics"], "jixiao": wh["metrics"]},
    }  # fmt: skip
    result["agree"] = (
        floor["rows"] == wh["rows"]
        and floor["findings"] == wh["findings"]
        and {k: v for k, v in manifest["expected_findings"].items() if v} == wh["findings"]
    )
    result["instrumentation_missing"] = jx["instrumentation_missing"]
    result["code_version"] = wh.get("code_version")
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "duckdb": _version("duckdb"),
        "polars": _version("polars"),
        "pandas": _version("pandas"),
        "prefect": _version("prefect"),
        "great_expectations": _version("great_expectations"),
    }
    result["bench_s"] = round(time.perf_counter() - started, 1)
    result["load_average"] = {"start": load_at_start, "end": list(os.getloadavg())}
    return result


# A country of many programmes, from the Dask run (bench/README.md, "Beyond one machine").
COUNTRY_PROGRAMMES = 100
COUNTRY_WORKERS = (2, 64)


def dask_country(jx: dict, rows_at_scale_1: float, rows: int) -> dict:
    """The Dask run as a line through two points, the sample (its warm-up: nearly all fixed
    cost) and this scale: the partitions' wall time per million rows, times the workers, is
    the core-seconds of ingestion per million rows, which more workers share; the rest of the
    run per million rows (merge, audit, publication: one machine) is not shared. Extrapolated
    to COUNTRY_PROGRAMMES programmes of a national year each, on COUNTRY_WORKERS workers."""
    def partitions(label: str) -> float:
        return jx[f"{label}_stages"]["detail"].get("load.dask_partitions", 0.0)

    fixed = jx["dask_warmup_s"]
    ingest = max(0.0, partitions("dask_run") - partitions("dask_warmup"))
    serial = max(0.0, (jx["dask_run_s"] - partitions("dask_run")) - (fixed - partitions("dask_warmup")))
    m = rows / 1e6
    core_s_per_m, serial_s_per_m = ingest * jx["dask_workers"] / m, serial / m
    country_m = COUNTRY_PROGRAMMES * rows_at_scale_1 / 1e6
    return {
        "fixed_s": round(fixed, 2),
        "ingest_core_s_per_m_rows": round(core_s_per_m, 2),
        "serial_s_per_m_rows": round(serial_s_per_m, 2),
        "programmes": COUNTRY_PROGRAMMES,
        "rows": round(country_m * 1e6),
        "hours": {w: round((fixed + country_m * (core_s_per_m / w + serial_s_per_m)) / 3600, 1)
                  for w in COUNTRY_WORKERS},
    }


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _load(averages: list[float]) -> str:
    return " / ".join(f"{a:.2f}" for a in averages)


def _x(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}×"


def markdown(r: dict) -> str:
    f = r["floor_s"]
    naive_note = ""
    if r.get("naive_extrapolated"):
        naive_note = f" (measured at scale {r['naive_measured_scale']:g}: " \
                     f"{r['naive_measured_s']:.2f} s, scaled by rows)"  # fmt: skip
    lines = [
        f"### Scale {r['scale']:g}: {r['rows']:,} rows in {r['files']:,} files "
        f"({r['counties']:,} counties, {r['data_mb']} MB)",
        "",
        "| figure | seconds | × floor |",
        "|---|---:|---:|",
        f"| floor: DuckDB read_csv + calamine, every check as plain SQL | {_s(f)} | 1.0× |",
        f"| naive: pandas + pandera + GX on pandas{naive_note} | {_s(r.get('naive_s'))} | "
        f"{_x(r['ratios'].get('naive_s'))} |",
        f"| **jixiao full run, cold (nightly flow)** | **{_s(r['full_run_s'])}** | "
        f"**{_x(r['ratios']['full_run_s'])}** |",
        f"| jixiao, same work without Prefect | {_s(r['plain_run_s'])} | "
        f"{_x(r['ratios']['plain_run_s'])} |",
        f"| — of which read + contract + load + RECORDS SQL (the floor's work) | "
        f"{_s(r['records_path_s'])} | {_x(r['ratios']['records_path_s'])} |",
        f"| Prefect's own overhead (flow − plain) | {_s(r['prefect_overhead_s'])} | "
        f"{_x(r['ratios']['prefect_overhead_s'])} |",
        f"| Prefect's own overhead, untimed time only (flow − plain) | "
        f"{_s(r['prefect_overhead_other_s'])} | "
        f"{_x(_ratio(r['prefect_overhead_other_s'], f))} |",
        f"| Prefect temporary server start (warm-up flow − warm-up plain; not in the run) | "
        f"{_s(r['prefect_startup_s'])} | |",
        f"| bundled sample, first run (nightly flow, server up; {r['sample_rows']} rows; median "
        f"of {len(r['sample_runs_s'])}, load {r['sample_load'][0]:.1f}) | "
        f"{_s(r['sample_run_s'])} | {_x(r['ratios']['sample_run_s'])} the floor on the sample "
        f"({_s(r['sample_floor_s'])} s, {r['sample_floor_rows']} rows) |",
        f"| — its CPU time (jixiao's process, median of the same runs; not Chromium's) | "
        f"{_s(r['sample_cpu_s'])} | |",
        f"| bundled sample, same, `python -m jixiao.flows.cli run` (interpreter and imports "
        f"included) | {_s(r['sample_cli_s'])} | |",
    ]
    if "incremental_s" in r:
        lines += [
            f"| nothing changed: the nights after the full run (median of {len(r['nochange_runs_s'])}) | {_s(r['nochange_s'])} | "
            f"{_x(r['ratios']['nochange_s'])} |",
            f"| incremental run: {r['incremental_files']} files (1%) changed | "
            f"{_s(r['incremental_s'])} | {_x(r['ratios']['incremental_s'])} |",
            f"| check-report, {r['report_bytes'] / 1024:.0f} KB report "
            f"({r['report_bytes'] / r['seed_report']['bytes']:.1f}× the seed), in process | "
            f"{_s(r['check_report_s'])} | {_x(r['ratios']['check_report_vs_seed'])} the seed's "
            f"time ({r['seed_report']['bytes'] / 1024:.0f} KB: {_s(r['check_report_seed_s'])} s) |",
            f"| check-report, same, `python -m jixiao.flows.cli … --format json` | "
            f"{_s(r['check_report_cli_s'])} | |",
        ]
    if "dask_run_s" in r:
        c = r["dask_country"]
        hours = ", ".join(f"{h} h on {w} workers" for w, h in c["hours"].items())
        lines += [
            f"| jixiao on Dask, cold (`--dask local`: {r['dask_workers']} worker processes; "
            f"same tables: {'yes' if r['dask_agree'] else 'NO'}) | {_s(r['dask_run_s'])} | "
            f"{_x(r['ratios']['dask_run_s'])} |",
            "",
            f"A country of {c['programmes']} programmes of a national year each "
            f"({c['rows'] / 1e6:,.0f} M rows) on Dask, from this run: {hours} (fixed "
            f"{c['fixed_s']:.0f} s; ingestion {c['ingest_core_s_per_m_rows']:.1f} core-s per M "
            f"rows, shared by the workers; merge, audit and publication "
            f"{c['serial_s_per_m_rows']:.1f} s per M rows on one machine).",
        ]
    rss = f"peak RSS: jixiao {r['peak_rss_mb']:.0f} MB, floor {r['floor_peak_rss_mb']:.0f} MB"
    if "naive_peak_rss_mb" in r:
        rss += f", naive {r['naive_peak_rss_mb']:.0f} MB" + (
            f" (at scale {r['naive_measured_scale']:g})" if r.get("naive_extrapolated") else ""
        )
    load = r["load_average"]
    lines += ["", rss + f"; warehouse {r['warehouse_mb']} MB. Machine load (1, 5, 15-minute "
              f"averages, {r['machine']['cpus']} CPUs): {_load(load['start'])} at the start, "
              f"{_load(load['end'])} at the end.", ""]
    lines += [
        "| stage | jixiao (no Prefect) | jixiao (flow) | floor | × floor stage | share of jixiao |"
        + (" naive |" if "naive_stages" in r else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if "naive_stages" in r else ""),
    ]
    total = r["plain_run_s"] or 1
    naive_map = {"read": "read", "contract": "contract", "load": "load", "gx": "gx"}
    for stage in STAGES:
        j = r["stages"].get(stage, 0.0)
        fl = r["floor_stages"].get(stage)
        row = (f"| {stage} | {_s(j)} | {_s(r['stages_flow'].get(stage))} | {_s(fl)} | "
               f"{_x(_ratio(j, fl))} | {100 * j / total:.0f}% |")  # fmt: skip
        if "naive_stages" in r:
            row += f" {_s(r['naive_stages'].get(naive_map.get(stage, '')))} |"
        lines.append(row)
    lines += ["", "Largest details (jixiao, no Prefect): " + ", ".join(
        f"{k} {v:.2f} s" for k, v in sorted(r["stages_detail"].items(), key=lambda kv: -kv[1])[:8]
    ) + ".", ""]  # fmt: skip
    agree = r["agreement"]
    lines.append(
        f"Floor and jixiao agree: **{'yes' if r['agree'] else 'NO'}** — rows "
        f"{sum(agree['rows']['floor'].values()):,} / {sum(agree['rows']['jixiao'].values()):,}; "
        f"RECORDS findings {sum(agree['findings']['floor'].values())} / "
        f"{sum(agree['findings']['jixiao'].values())} "
        f"(planted {sum(agree['findings']['expected'].values())})."
    )
    return "\n".join(lines) + "\n"


def curve_markdown(points: list[dict]) -> str:
    lines = [
        "### Growth: full run per scale (each in a fresh process)",
        "",
        "| scale | rows | files | floor s | jixiao full run s | × floor | Prefect overhead s | "
        "s per M rows | peak RSS MB (jixiao / floor) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        per_m = p["full_run_s"] / (p["rows"] / 1e6) if p["rows"] else 0
        lines.append(
            f"| {p['scale']:g} | {p['rows']:,} | {p['files']:,} | {_s(p['floor_s'])} | "
            f"{_s(p['full_run_s'])} | {_x(p['ratios']['full_run_s'])} | "
            f"{_s(p['prefect_overhead_s'])} | {per_m:.1f} | "
            f"{p['peak_rss_mb']:.0f} / {p['floor_peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark jixiao on a national year.")
    parser.add_argument("--scale", type=float, default=0.01, help="1 = the national year")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--md", type=Path, help="write the figures as Markdown here")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="generated data cache")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch folder")
    parser.add_argument(
        "--naive-limit",
        type=float,
        default=0.05,
        help="largest scale the naive stack runs at; beyond, extrapolated",
    )
    parser.add_argument("--curve", help="also the full run at these scales, e.g. 0.25,0.5,1,2")
    parser.add_argument(
        "--only-full",
        action="store_true",
        help="floor and full run only (no naive, incremental, check-report)",
    )
    parser.add_argument(
        "--short-report",
        action="store_true",
        help="audit the national report once instead of the 10× report (CI)",
    )
    parser.add_argument(
        "--dask",
        action="store_true",
        help="also the nightly flow cold on a Dask LocalCluster (dask_run_s)",
    )
    parser.add_argument("--phase", choices=("floor", "naive", "jixiao"), help=argparse.SUPPRESS)
    parser.add_argument("--part", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.data, args.work = args.data.resolve(), args.work.resolve()
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")

    if args.phase:
        out = {"floor": phase_floor, "naive": phase_naive, "jixiao": phase_jixiao}[args.phase](args)
        args.part.write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str), "utf-8")
        return 0

    os.environ.update(_env(args.work))  # the parent generates and reads the key
    result = bench(args, args.scale)
    md = markdown(result)
    if args.curve:
        points = []
        for s in (float(x) for x in args.curve.split(",") if x.strip()):
            part = args.work / f"curve-s{s:g}.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--scale", str(s),
                   "--only-full", "--json", str(part), "--data", str(args.data),
                   "--work", str(args.work)]  # fmt: skip
            log = args.work / f"curve-s{s:g}.log"
            print(f"[bench] curve: scale {s:g} … (log: {log})", flush=True)
            with open(log, "w", encoding="utf-8") as fh:
                subprocess.run(cmd, env=_env(args.work), cwd=REPO, check=True, stdout=fh,
                               stderr=subprocess.STDOUT)  # fmt: skip
            points.append(json.loads(part.read_text(encoding="utf-8")))
        result["curve"] = [
            {k: p.get(k) for k in ("scale", "rows", "files", "floor_s", "full_run_s",
                                   "plain_run_s", "prefect_overhead_s",
                                   "prefect_overhead_other_s", "peak_rss_mb",
                                   "floor_peak_rss_mb", "stages", "ratios", "agree")}
            for p in points
        ]  # fmt: skip
        md += "\n" + curve_markdown(points)
    print()
    print(md)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                             "utf-8")  # fmt: skip
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(md, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
