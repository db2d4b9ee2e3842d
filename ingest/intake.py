"""County files from disk to the staging warehouse, or back to their county with reasons.

Files go through in batches. Each file is hashed and read on its own; the batch's sheets are
then checked against their contracts together (one pandera call per sheet, not per file);
every file's fate is decided in submission order, as if the files came one by one; and the
batch is loaded in one transaction, one statement per table.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import stat
import time
import traceback
from collections import deque
from collections.abc import Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from jixiao.checkpoints import checkpoint
from jixiao.ingest.discover import Submission
from jixiao.ingest.layout import TOTALS, Choice, choose_sheets
from jixiao.ingest.load import (
    delete_county_rows,
    insert_log,
    insert_names,
    insert_rows,
    insert_totals,
    log_row,
    mark_superseded,
    transaction,
    warehouse_rows,
    warehouse_totals,
)
from jixiao.ingest.normalise import county_of_file
from jixiao.ingest.personal import (
    Names,
    file_label,
    learn_words,
    mask_text,
    masked,
    masked_values,
    sheet_names,
)
from jixiao.ingest.problems import FileRefused, Problem
from jixiao.ingest.readers import LINK, Columns, RawSheet, read_csv, read_workbook, too_large
from jixiao.ingest.validate import ROW, Checked, SheetText, check_sheets, sheet_text
from jixiao.limits import Limits
from jixiao.publish.feedback import feedback_path, page_name, write_feedback
from jixiao.said import Said
from jixiao.schemas.contracts import FILE, Sheet, Template
from jixiao.schemas.programme import Programme
from jixiao.schemas.warehouse import FILE_STATS, STATED_TOTALS, latest_log_entries

log = logging.getLogger(__name__)

# A batch is checked and loaded once it holds this many rows or files: bounds memory.
BATCH_ROWS = 1_000_000
BATCH_FILES = 2_000
# Reader processes are started from this many files on; they take files in chunks and read
# at most READ_AHEAD files ahead of the batch being checked: a whole batch, so that they read
# the next one while this one is checked and loaded, rather than wait for it.
POOL_FROM = 200
READ_CHUNK = 16
READ_AHEAD = BATCH_FILES
# The stat cache trusts an entry only when the file's status last changed at least this long
# before the status was read (git's "racily clean" guard; see `Stat`): longer than any file
# system's timestamp tick (FAT's is 2 s; Linux's coarse clock, a few ms).
RACY_NS = 2_000_000_000

@dataclass(frozen=True)
class Outcome:
    programme: str
    file: str
    sha256: str
    county: str | None
    status: str  # accepted | refused | superseded | skipped
    rows: int
    problems: int


@dataclass(frozen=True)
class Context:
    programme: Programme
    con: duckdb.DuckDBPyConnection
    hash_key: bytes
    run_id: str
    feedback_dir: Path
    lang: str = "zh"
    # False: free text is stored as read, for the caller to mask by the names of every batch
    # (flows.partitions: a partition knows only its own files' names)
    mask_free_text: bool = True


@dataclass(frozen=True)
class Stat:
    """What the stat cache (`file_stats`) knows a file by, the way git's index does: a file
    whose size, mtime, ctime and inode are those recorded when it was hashed holds what it
    held then, and is not read again.

    Limits, as git's: rewriting a file in place changes its ctime, even when its size is
    the same and its mtime is set back (touch -d, cp -p, tar); replacing it by another file
    changes its inode. A change within the same timestamp tick as the recorded status would
    not show in these: an entry whose ctime lies within RACY_NS of the moment its status was
    read ("racily clean") is not trusted, and the file is hashed again. What this cannot see
    is a clock set back by more than RACY_NS between two writes of the same size into the
    same file and tick, or a file system whose ctime does not change on writes; ``jixiao run
    --rebuild`` hashes every file again. The device number is not compared (it can change
    across mounts, as git also leaves it out by default)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    at_ns: int  # when the status was read

    @classmethod
    def of(cls, path: Path) -> Stat | None:
        """The status of ``path`` now (None for a symbolic link: it is never followed)."""
        at = time.time_ns()
        st = os.stat(path, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, at)

    def same_file(self, now: Stat) -> bool:
        """Whether ``now`` says the file still holds what it held when self was recorded."""
        same = (self.size, self.mtime_ns, self.ctime_ns, self.inode) == (
            now.size, now.mtime_ns, now.ctime_ns, now.inode)  # fmt: skip
        return same and self.ctime_ns + RACY_NS <= self.at_ns


def stat_cache(con: duckdb.DuckDBPyConnection, programme: Programme) -> dict[str, tuple[Stat, str]]:
    """The programme's `file_stats`: file -> its status when it was hashed, and the hash."""
    return {file: (Stat(*st), sha) for file, sha, *st in con.execute(
        "SELECT file, sha256, size_bytes, mtime_ns, ctime_ns, inode, stat_at_ns FROM "
        f"{FILE_STATS.name} WHERE programme_code = ? AND year = ?",
        [programme.code, programme.year]).fetchall()}  # fmt: skip


def cached_sha(path: Path, cached: tuple[Stat, str] | None) -> str | None:
    """The SHA-256 the stat cache vouches for without reading the file, if it does."""
    try:
        now = Stat.of(path)
    except OSError:  # gone since discovery: whoever reads it says so
        return None
    return cached[1] if cached and now and cached[0].same_file(now) else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha(path: Path, st: Stat, limits: Limits) -> tuple[str, Problem | None]:
    """What a file is known by: the SHA-256 of its content, or, for a file over the size
    limit, never read, not even to hash it, the SHA-256 of its size, which is all its refusal
    (the problem returned) depends on: it is skipped like an unchanged file until its size
    changes."""
    if problem := too_large(st.size, limits.file_mb):
        return hashlib.sha256(f"{problem.rule_id} {st.size}".encode()).hexdigest(), problem
    return sha256_of(path), None


WORKBOOKS = ("xlsx", "xls")  # the Submission kinds that are a county's whole submission


def read_sheets(sub: Submission, limits: Limits | None = None) -> dict[str, RawSheet | Columns]:
    """Every sheet a file carries, by name (a CSV's one sheet by its key); raises
    FileRefused when unusable."""
    if sub.kind == "csv" and sub.sheet:
        return {sub.sheet: read_csv(sub.path, limits, columns=True)}
    if sub.kind not in WORKBOOKS:
        raise FileRefused(Problem("FILE.NAME", value=sub.rel))
    return read_workbook(sub.path, limits)


def template_sheets(sub: Submission, raw: dict[str, RawSheet | Columns],
                    template: Template) -> Choice:  # fmt: skip
    """The template sheets among what `read_sheets` returned, by key (layout.choose_sheets).
    A workbook may leave out a sheet the template does not require (the county had nothing
    for it); raises FileRefused naming the required sheets it lacks, and the sheets it holds."""
    if sub.kind == "csv":
        return Choice(raw)
    choice = choose_sheets(raw, template)
    if choice.problems:
        raise FileRefused(*choice.problems)
    return choice


def _width(sheet: RawSheet | Columns) -> int:
    if isinstance(sheet, Columns):
        return sheet.frame.width - 1  # less its "row"
    return max([len(sheet.header), *map(len, sheet.rows)])


def _cells(sheet: RawSheet | Columns) -> pl.DataFrame:
    """Every cell of a sheet below its header row, as text columns c0, c1 … (text even when
    a column is all blank, such as an empty 备注 column: inferred, it would have no type)."""
    if isinstance(sheet, Columns):
        return sheet.frame.drop("row")
    width = _width(sheet)
    return pl.DataFrame([r + [None] * (width - len(r)) for r in sheet.rows],
                        schema=dict.fromkeys((f"c{i}" for i in range(width)), pl.String),
                        orient="row")  # fmt: skip


def file_names(raw: dict[str, RawSheet | Columns], chosen: dict[str, RawSheet | Columns],
               checked: dict[str, SheetText], template: Template) -> set[str]:  # fmt: skip
    """The names a file pairs with personal IDs (personal.sheet_names) in what its contracts
    do not see — ``chosen`` are the template sheets `template_sheets` chose, ``checked`` what
    validate.check_sheets will check of them and find names in, for a whole batch at once:
    sheets the template does not know (an extra roster, a second sheet of the same kind),
    columns it does not know (备注, 序号), a sheet whose header it cannot use, and everything
    of a file refused before its sheets reach a contract."""
    found: set[str] = set()
    kinds = {id(sheet): key for key, sheet in chosen.items()}
    for sheet in raw.values():
        declared = template.sheets.get(kinds.get(id(sheet), ""))
        text = checked.get(declared.key) if declared else None
        positions = text.positions if text else {}
        seen = text is not None and text.frame is not None  # its declared columns: checked
        if seen and _width(sheet) <= len(positions):
            continue
        by_kind = (
            {declared.personal.get(k): f"c{i}" for k, i in positions.items()} if declared else {}
        )
        by_kind.setdefault("cert", by_kind.get("id"))
        typed = {f"c{i}" for i in positions.values()}
        found |= sheet_names(sheet.header, _cells(sheet), by_kind.get("cert"),
                             None if seen else by_kind.get("name"), typed)  # fmt: skip
    return found


def mask(problems: list[Problem], names: Names, template: Template) -> list[Problem]:
    """What a refusal says, as people may read it: values of personal columns (formula text
    included) masked by their kind, and every text of every problem by shape and by the names
    the file pairs with IDs (personal.mask_text)."""
    kinds = {name: kind for sheet in template.sheets.values()
             for key, kind in sheet.personal.items() for name in (key, sheet.labels[key])}  # fmt: skip

    def shown(p: Problem) -> Problem:
        value = masked(kinds.get(p.column or ""), p.value)
        texts = {"value": value} | {
            k: getattr(p, k)
            for k in ("sheet", "column", "expected", "expected_en", "cell", "detail", "detail_en")
        }
        return replace(p, **{k: mask_text(v, names) if v else v for k, v in texts.items()})

    return [shown(p) for p in problems]


@dataclass
class Ledger:
    """What the warehouse already holds for a programme (its code and year), read once and
    kept up to date as files are decided, so that no file costs a query. Of the counties'
    rows it holds those of the counties whose files the run reads (`hold`)."""

    last_sha: dict[str, str]  # file -> sha256 last processed under that name
    accepted: dict[str, dict[str, tuple[int, frozenset[str]]]]  # county -> file -> version, sheets
    stats: dict[str, tuple[Stat, str]]  # file -> its status when hashed, and the hash (file_stats)
    # (county, sheet) with rows or stated totals in the warehouse
    loaded: set[tuple[str, str]] = field(default_factory=set)
    # (sheet, its fields a foreign key refers to) -> county -> the values in the warehouse
    keys: dict[tuple[str, tuple[str, ...]], dict[str, set[str]]] = field(default_factory=dict)
    # names this run's batches already stored (insert_names): a name recurs in batch after
    # batch, and is hashed once
    named: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, programme: Programme,
             stats: dict[str, tuple[Stat, str]] | None = None) -> Ledger:  # fmt: skip
        """The programme's ledger, before `hold`; ``stats``: its files' status and hash as the
        run already knows them, in place of the stat cache."""
        scope = [programme.code, programme.year]
        accepted: dict[str, dict[str, tuple[int, frozenset[str]]]] = {}
        for county, file, version, sheets in con.execute(
            "SELECT county_code, file, version, sheets FROM ingest_log WHERE programme_code = ? "
            "AND year = ? AND status = 'accepted'", scope
        ).fetchall():
            accepted.setdefault(county, {})[file] = (version, frozenset(sheets))
        last = latest_log_entries("programme_code, year, file")
        return cls(
            dict(con.execute(f"SELECT file, sha256 FROM {last} WHERE programme_code = ? "
                             "AND year = ?", scope).fetchall()),
            accepted,
            stat_cache(con, programme) if stats is None else stats,
        )  # fmt: skip

    def hold(self, con: duckdb.DuckDBPyConnection, programme: Programme,
             counties: Collection[str]) -> None:
        """Which sheets of ``counties`` have rows (or stated totals) in the warehouse, and
        their values that foreign keys refer to: what deciding those counties' files asks,
        read for them alone (a night that reads a few counties' files does not read every
        county's keys)."""
        def rows(sql: str) -> list[tuple]:
            return con.execute(sql, [programme.code, programme.year, list(counties)]).fetchall()

        scope = "programme_code = $1 AND year = $2 AND county_code IN (SELECT unnest($3))"
        template = programme.county_template
        self.loaded = {(county, key) for key in template.sheets for (county,) in rows(
            f"SELECT county_code FROM {key} WHERE {scope} UNION SELECT county_code FROM "
            f"{STATED_TOTALS.name} WHERE {scope} AND sheet = '{key}'")}  # fmt: skip
        self.keys = {(ref, fields): {county: set(values) for county, values in rows(
            f"SELECT county_code, list(concat_ws(chr(31), {', '.join(fields)})) "
            f"FROM {ref} WHERE {scope} GROUP BY 1")} for ref, fields in referenced(template)}  # fmt: skip

    def unchanged(self, file: str, path: Path) -> bool:
        """Whether the file is known, by the stat cache, to hold what was last processed under
        its name, without reading it."""
        sha = cached_sha(path, self.stats.get(file))
        return sha is not None and sha == self.last_sha.get(file)

    def newer(self, county: str, sheets: frozenset[str], version: int) -> str | None:
        """The accepted file that a late-arriving older version must not overwrite."""
        hits = [(v, f) for f, (v, s) in self.accepted.get(county, {}).items()
                if v > version and s & sheets]  # fmt: skip
        return max(hits)[1] if hits else None

    def accept(self, county: str, file: str, version: int, sheets: frozenset[str]) -> list[str]:
        """Record an acceptance; returns the accepted files it supersedes (sheets overlap)."""
        files = self.accepted.setdefault(county, {})
        gone = [f for f, (_, s) in files.items() if s & sheets]
        for f in gone:
            del files[f]
        files[file] = (version, sheets)
        return gone


def referenced(template: Template) -> set[tuple[str, tuple[str, ...]]]:
    """The (sheet, fields) that foreign keys of the template refer to."""
    return {(ref, fields) for sheet in template.sheets.values()
            for _, ref, fields in sheet.foreign_keys}  # fmt: skip


def key_values(fields: tuple[str, ...]) -> pl.Expr:
    """A row's values of ``fields`` as one text, as Ledger.read reads them from the warehouse."""
    return pl.concat_str([pl.col(f).cast(pl.String) for f in fields], separator="\x1f")


@dataclass
class Read:
    """What a reader returns for one file: picklable, as readers may run in other processes."""

    sha: str
    size: int
    stat: Stat | None = None  # the file's status before it was hashed (the stat cache)
    unchanged: bool = False  # its content is what was last processed: nothing else is read
    sheets: dict[str, SheetText] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # the names it pairs with IDs where no contract looks (file_names)
    names: set[str] = field(default_factory=set)
    notes: list[Said] = field(default_factory=list)  # how its sheets were read (layout)
    failure: str | None = None  # the traceback of a reader that failed, for the log


def read_file(sub: Submission, last_sha: str | None, wanted: bool, template: Template,
              limits: Limits | None = None) -> Read:  # fmt: skip
    """Hash a file and read its sheets, unless its content is what was last processed
    (``unchanged``). ``wanted`` is False when the file is refused whatever it holds (county
    unknown). Its status is read before it is hashed: a change while it is read shows in
    the status next time.

    A file over the size limit is refused by its size alone (`content_sha`). ``limits``:
    `Limits.from_env` unless given (read once for many files)."""
    try:
        st = Stat.of(sub.path)
        if st is None:  # a symbolic link, never followed, not even to hash: it may point anywhere
            link = hashlib.sha256(os.fsencode(os.readlink(sub.path))).hexdigest()
            return Read(link, 0, problems=[Problem("FILE.UNSAFE", detail=LINK.zh, detail_en=LINK.en)])
        limits = limits or Limits.from_env()
        sha, problem = content_sha(sub.path, st, limits)
        if problem:
            return Read(sha, st.size, st, sha == last_sha, problems=[problem])
        read = Read(sha, st.size, st)
    except OSError as exc:  # gone or unreadable since discovery: refused, the run goes on
        return Read("", 0, problems=[Problem("FILE.CORRUPT", detail=exc.strerror)])
    if read.sha == last_sha:
        return replace(read, unchanged=True)
    if wanted:
        raw: dict[str, RawSheet | Columns] = {}
        chosen: dict[str, RawSheet | Columns] = {}
        try:
            raw = read_sheets(sub, limits)
            choice = template_sheets(sub, raw, template)
            chosen = choice.sheets
            read.sheets = {k: sheet_text(r, template.sheets[k]) for k, r in chosen.items()}
            read.notes = choice.notes + [n for text in read.sheets.values() for n in text.notes]
        except FileRefused as refused:
            read.problems = refused.problems
            raw = raw or refused.sheets  # what was read before a cell was refused, if anything
        except Exception as exc:  # a reader failing on bytes it cannot parse must not stop the run
            read.problems = [Problem("FILE.CORRUPT", detail=type(exc).__name__)]
            read.failure = traceback.format_exc()
        read.names = file_names(raw, chosen, read.sheets, template)
    return read


def _read_files(jobs: list[tuple[Submission, str | None, bool, Template]]) -> list[Read]:
    limits = Limits.from_env()
    return [read_file(*job, limits) for job in jobs]


def _reads(jobs: list[tuple[Submission, str | None, bool, Template]]) -> Iterator[Read]:
    """read_file over the jobs, in order. From POOL_FROM files on, worker processes (one per
    core) read while this one checks and loads: reading is most of a run's Python work. At
    most READ_AHEAD files wait in memory, whichever side is faster."""
    # A pool costs a second or two to start; a daemon process (a Dask worker, which runs one
    # partition of many: flows.partitions) may not start one, nor need it.
    if len(jobs) < POOL_FROM or multiprocessing.current_process().daemon:
        limits = Limits.from_env()
        yield from (read_file(*job, limits) for job in jobs)
        return
    chunks = [jobs[i : i + READ_CHUNK] for i in range(0, len(jobs), READ_CHUNK)]
    spawn = multiprocessing.get_context("spawn")  # never fork a process holding DuckDB threads
    with ProcessPoolExecutor(_cores(), mp_context=spawn) as pool:
        waiting: deque = deque()
        for chunk in chunks:
            waiting.append(pool.submit(_read_files, chunk))
            if len(waiting) * READ_CHUNK >= READ_AHEAD:
                yield from waiting.popleft().result()
        while waiting:
            yield from waiting.popleft().result()


def _cores() -> int:
    """The cores this process may use (its affinity, as containers set it), at most 8: each
    reader holds its own interpreter and libraries, about 200 MB."""
    usable = (
        os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    )
    return max(1, min(8, len(usable)))


@dataclass
class _File:
    """A changed file in a batch: what its reader returned, and the county it names."""

    sub: Submission
    county: str | None
    read: Read

    @property
    def problems(self) -> list[Problem]:
        if self.county is None and self.read.sha:  # refused whatever it holds
            return [Problem("FILE.UNKNOWN_COUNTY", value=self.sub.county_text)]
        return self.read.problems


def foreign_keys(rows: pl.DataFrame, name: str, sheet: Sheet, template: Template,
                 known: dict[tuple[str, tuple[str, ...]], set[str]]) -> list[Problem]:  # fmt: skip
    """Rows of ``sheet`` (named ``name`` in its file) must name rows of the sheets its foreign
    keys refer to, of the same county; ``known``: the values of those, by (sheet, fields). A
    row whose key is empty refers to nothing."""
    problems = []
    for fields, ref, ref_fields in sheet.foreign_keys:
        values = rows.select(key_values(fields).alias("key"), ROW)
        bad = values.filter(~pl.col("key").is_in(list(known.get((ref, ref_fields), ()))))
        label = "、".join(sheet.labels[f] for f in fields)
        problems += [
            Problem("VALUE.FOREIGN_KEY", name, row, label, key.replace("\x1f", " / "),
                    template.sheets[ref].title)
            for key, row in bad.iter_rows()
        ]  # fmt: skip
    return problems


def process(subs: list[Submission], ctx: Context,
            seen: dict[str, tuple[Stat, str]] | None = None) -> Iterator[list[Outcome]]:  # fmt: skip
    """Accept, refuse or supersede every file, batch by batch; yields each batch's outcomes
    once it is committed. Never raises for anything a file contains.

    ``seen``: what the run already knows of the files, by label (each one's status and
    SHA-256, vouched for by the stat cache or hashed this run: flows.nightly.nothing_changed),
    so that no file is looked at twice; a file whose hash is the one last processed is
    skipped; the others, and those ``seen`` leaves out, are read and hashed (again for those
    it holds: their status may have moved)."""
    programme = ctx.programme
    template = programme.county_template
    learn_words(template.words)
    ledger = Ledger.read(ctx.con, programme, seen)
    # A path names the file wherever it is logged, stored or shown: masked, and the same
    # night after night, so that it still tells a file from its earlier versions.
    subs = [replace(sub, rel=file_label(sub.rel, ctx.hash_key)) for sub in subs]
    counties = [county_of_file(sub.county_text, programme.counties) for sub in subs]
    if seen is None:
        known = [ledger.unchanged(sub.rel, sub.path) for sub in subs]  # not even hashed
    else:
        known = [sub.rel in seen and seen[sub.rel][1] == ledger.last_sha.get(sub.rel)
                 for sub in subs]  # fmt: skip
    jobs = [
        (sub, ledger.last_sha.get(sub.rel), c is not None, template)
        for sub, c, k in zip(subs, counties, known, strict=True) if not k
    ]
    ledger.hold(ctx.con, programme,
                {c for c, k in zip(counties, known, strict=True) if not k and c is not None})
    reads = _reads(jobs)
    stats = {sub.rel: ledger.stats[sub.rel] for sub, k in zip(subs, known, strict=True) if k}
    batch: list[_File | Outcome] = []
    files = rows = 0  # changed files and their rows in the batch: skipped ones cost nothing
    for sub, county, k in zip(subs, counties, known, strict=True):
        read = None if k else next(reads)
        checkpoint("intake.read")
        if read is not None and read.stat is not None:
            stats[sub.rel] = (read.stat, read.sha)
        if read is None or read.unchanged:
            sha = ledger.last_sha[sub.rel]
            batch.append(Outcome(programme.code, sub.rel, sha, None, "skipped", 0, 0))
            continue
        if read.failure:
            log.warning("unreadable file %s\n%s", sub.rel, mask_text(read.failure, read.names))
        batch.append(_File(sub, county, read))
        files += 1
        rows += sum(text.rows for text in read.sheets.values())
        if rows >= BATCH_ROWS or files >= BATCH_FILES:
            yield _settle(batch, ctx, ledger)
            batch, files, rows = [], 0, 0
    reads.close()  # its reader processes, when there were any
    if batch:
        yield _settle(batch, ctx, ledger)
    with transaction(ctx.con):
        store_stats(ctx.con, programme, stats)


def store_stats(con: duckdb.DuckDBPyConnection, programme: Programme,
                stats: dict[str, tuple[Stat, str]]) -> None:  # fmt: skip
    """The programme's stat cache: the status and hash of every file seen this run, for the
    next (a file gone from disk leaves it); inside the caller's transaction."""
    frame = pl.DataFrame(
        [(programme.code, programme.year, file, st.size, st.mtime_ns, st.ctime_ns, st.inode,
          sha, st.at_ns) for file, (st, sha) in stats.items()],
        schema={c.name: pl.Int64 if c.type in ("BIGINT", "INTEGER") else pl.String
                for c in FILE_STATS.columns}, orient="row")  # fmt: skip
    con.execute(f"DELETE FROM {FILE_STATS.name} WHERE programme_code = ? AND year = ?",
                [programme.code, programme.year])  # fmt: skip
    con.register("incoming_stats", frame)
    con.execute(f"INSERT INTO {FILE_STATS.name} BY NAME SELECT * FROM incoming_stats")
    con.unregister("incoming_stats")


@dataclass
class _Batch:
    """A batch being settled: its files as checked, and what it writes, built while its
    files are decided. Files are known by their index in ``files``."""

    files: list[_File]
    checked: dict[str, Checked]
    # sheet -> file -> its rows, for the sheets that foreign keys refer to or start from
    parts: dict[str, dict[int, pl.DataFrame]]
    # The names its files pair with IDs: what a refusal or a free-text cell of any of them
    # may not show (a name is a name, whichever file gave it), and what insert_names keeps.
    names: Names
    log: dict[str, dict] = field(default_factory=dict)  # file -> its ingest_log row
    winners: dict[str, dict[str, int]] = field(default_factory=dict)  # sheet -> county -> file
    deletes: dict[str, set[str]] = field(default_factory=dict)  # sheet -> counties
    replaced: dict[str, str] = field(default_factory=dict)  # earlier accepted file -> by


def _settle(items: list[_File | Outcome], ctx: Context, ledger: Ledger) -> list[Outcome]:
    """Check the batch's sheets together, decide each file in order, load the batch."""
    files = [item for item in items if isinstance(item, _File)]
    template = ctx.programme.county_template
    checked: dict[str, Checked] = {}
    for key, sheet in template.sheets.items():
        texts = {i: f.read.sheets[key] for i, f in enumerate(files) if key in f.read.sheets}
        if texts:
            checked[key] = check_sheets(texts, sheet, ctx.programme)
    checkpoint("intake.validated")
    names = Names(
        set().union(*(c.people for c in checked.values()), *(f.read.names for f in files))
    )
    linked = {ref for ref, _ in referenced(template)} | {
        key for key, sheet in template.sheets.items() if sheet.foreign_keys
    }
    parts = {key: _per_file(checked[key]) for key in linked if key in checked}
    batch = _Batch(files, checked, parts, names)
    index = iter(range(len(files)))  # items holds the files in this order
    outcomes = [
        item if isinstance(item, Outcome) else _decide(next(index), item, batch, ctx, ledger)
        for item in items
    ]
    _load(ctx, batch, ledger)
    ledger.loaded |= {(c, key) for key, counties in batch.winners.items() for c in counties}
    return outcomes


def _per_file(checked: Checked) -> dict[int, pl.DataFrame]:
    """Each file's rows of a sheet, split once per batch (none when no file's header could
    be read)."""
    if checked.frame.is_empty():
        return {}
    parts = checked.frame.partition_by(FILE, as_dict=True, include_key=False)
    return {i: part for (i,), part in parts.items()}


def _references(i: int, item: _File, batch: _Batch, ledger: Ledger,
                template: Template) -> list[Problem]:  # fmt: skip
    """A file's rows must name rows of the sheets they refer to: in a workbook, its own (it
    replaces all the county's sheets, even those it leaves out); in a one-sheet CSV, those the
    county submitted before."""
    problems = []
    for key in item.read.sheets:
        sheet = template.sheets[key]
        if not sheet.foreign_keys or i not in batch.parts.get(key, {}):
            continue
        known = {}
        for _, ref, fields in sheet.foreign_keys:
            if item.sub.kind in WORKBOOKS:
                own = batch.parts.get(ref, {}).get(i)
                values = own.select(key_values(fields)).to_series() if own is not None else ()
                known[(ref, fields)] = set(values)
            else:
                known[(ref, fields)] = ledger.keys[(ref, fields)].get(item.county, set())
        name = batch.checked[key].names[i]
        problems += foreign_keys(batch.parts[key][i], name, sheet, template, known)
    return problems


def _decide(i: int, item: _File, batch: _Batch, ctx: Context, ledger: Ledger) -> Outcome:
    """One file's fate, as if the files of the batch came one by one."""
    programme, sub, county, read = ctx.programme, item.sub, item.county, item.read
    checked = batch.checked
    template = programme.county_template
    problems = item.problems + [p for key in read.sheets for p in checked[key].problems.get(i, [])]
    if not problems:
        problems = _references(i, item, batch, ledger, template)
    ledger.last_sha[sub.rel] = read.sha
    # A workbook is the county's whole submission: a sheet it leaves out had nothing (its
    # earlier rows go); a CSV is one sheet.
    sheets = frozenset(template.sheets if sub.kind in WORKBOOKS else read.sheets)
    entry = {
        "run_id": ctx.run_id,
        "programme_code": programme.code,
        "year": programme.year,
        "county_code": county,
        "file": sub.rel,
        "version": sub.version,
        "sha256": read.sha,
        "size_bytes": read.size,
        "sheets": list(read.sheets) or ([sub.sheet] if sub.sheet else []),
        "sheets_absent": [k for k in template.sheets if k not in read.sheets]
        if sub.kind in WORKBOOKS and read.sheets else [],
        # sheet names are file text; the warehouse keeps both languages, outputs show one
        "notes": [mask_text(note.zh, batch.names) for note in read.notes],
        "notes_en": [mask_text(note.en, batch.names) for note in read.notes],
        "rows_read": sum(checked[key].rows_read[i] for key in read.sheets),
    }

    def outcome(status: str, rows: int = 0, problems: int = 0) -> Outcome:
        return Outcome(programme.code, sub.rel, read.sha, county, status, rows, problems)

    if problems:
        problems = mask(problems, batch.names, template)
        path = feedback_path(ctx.feedback_dir, county, programme.year, programme.code, sub.rel)
        write_feedback(path, sub, read.sha, programme.name, problems, ctx.lang,
                       unassigned=county is None)
        checkpoint("intake.feedback_written")
        rel = page_name(ctx.feedback_dir, path)
        batch.log[sub.rel] = log_row(
            entry | {"status": "refused", "rows_loaded": 0, "feedback_file": rel}, problems
        )
        return outcome("refused", problems=len(problems))
    if newer := ledger.newer(county, sheets, sub.version):
        batch.log[sub.rel] = log_row(
            entry | {"status": "superseded", "rows_loaded": 0, "superseded_by": newer}, []
        )
        return outcome("superseded")
    for gone in ledger.accept(county, sub.rel, sub.version, sheets):
        if gone in batch.log:
            batch.log[gone] |= {"status": "superseded", "superseded_by": sub.rel}
        else:
            batch.replaced[gone] = sub.rel
    for key in sheets:
        if key in read.sheets:
            batch.winners.setdefault(key, {})[county] = i
        if (county, key) in ledger.loaded:
            batch.deletes.setdefault(key, set()).add(county)
    for ref, fields in ledger.keys:
        if ref in sheets:
            own = batch.parts.get(ref, {}).get(i)
            values = own.select(key_values(fields)).to_series() if own is not None else ()
            ledger.keys[(ref, fields)][county] = set(values)
    loaded = entry["rows_read"]  # every row read is loaded
    batch.log[sub.rel] = log_row(entry | {"status": "accepted", "rows_loaded": loaded}, [])
    return outcome("accepted", loaded)


def _stated(batch: _Batch) -> dict[str, pl.DataFrame]:
    """The totals the batch's accepted files state (SheetText.totals), by sheet, each row with
    its file (FILE)."""
    out = {}
    for key, by_county in batch.winners.items():
        frames = [
            totals.select(*(pl.col(c).cast(t) for c, t in TOTALS.items()),
                          pl.lit(i, pl.Int64).alias(FILE))
            for i in sorted(by_county.values())
            if (totals := batch.files[i].read.sheets[key].totals) is not None
        ]  # fmt: skip
        if frames:
            out[key] = pl.concat(frames)
    return out


def _load(ctx: Context, batch: _Batch, ledger: Ledger) -> None:
    """The batch in one transaction: a crash leaves it all out, and the staging file is
    published only after the whole run."""
    programme, files, checked = ctx.programme, batch.files, batch.checked
    sheets = programme.county_template.sheets
    totals = _stated(batch)
    free = [checked[key].frame[c] for key in batch.winners for c in sheets[key].free_text]
    free += [t["stated"] for t in totals.values()]  # what a clerk typed in a total's cell
    shown = masked_values(pl.concat(free), batch.names) if free and ctx.mask_free_text else {}
    with transaction(ctx.con):
        insert_names(ctx.con, programme, batch.names - ledger.named, ctx.hash_key)
        for key, counties in batch.deletes.items():
            delete_county_rows(ctx.con, key, programme, sorted(counties))
        for key, by_county in batch.winners.items():
            chosen = sorted(by_county.values())
            lineage = pl.DataFrame(
                {
                    FILE: chosen,
                    "programme_code": programme.code,
                    "year": programme.year,
                    "county_code": [files[i].county for i in chosen],
                    "source_file": [files[i].sub.rel for i in chosen],
                    "source_sha256": [files[i].read.sha for i in chosen],
                    "source_sheet": [checked[key].names[i] for i in chosen],
                },
                schema_overrides={FILE: pl.Int64},
            )
            frame = checked[key].frame.with_columns(pl.col(sheets[key].free_text).replace(shown))
            rows = warehouse_rows(frame, sheets[key], lineage)
            insert_rows(ctx.con, sheets[key], rows, ctx.hash_key)
            if key in totals:
                stated = warehouse_totals(totals[key], sheets[key], lineage)
                insert_totals(ctx.con, stated.with_columns(pl.col("stated_text").replace(shown)))
            checkpoint("load.after_insert")
        if batch.replaced:  # before the batch's own rows: a changed file replaces itself
            mark_superseded(ctx.con, programme, batch.replaced)
        if batch.log:
            insert_log(ctx.con, list(batch.log.values()))
        checkpoint("load.before_commit")
    ledger.named |= batch.names
    checkpoint("load.committed")
