"""Published reports follow the warehouse: staged during the run, swapped in after it."""

from pathlib import Path

import pytest

from jixiao.publish import report

CODE = "530100-disability-employment"


def stage(out: Path, run: str, names=("report.html", "findings.json")) -> None:
    folder = report.staged_folder(out, 2022, CODE)
    (folder / "data_docs").mkdir(parents=True)
    for name in names:
        (folder / name).write_text(run, encoding="utf-8")
    (folder / "data_docs" / "index.html").write_text(run, encoding="utf-8")


def shown(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(params=["exchange", "two renames"])
def out(request, tmp_path, monkeypatch) -> Path:
    if request.param == "two renames":  # a system or filesystem without renameat2
        monkeypatch.setattr(report, "_exchange", lambda a, b: False)
    return tmp_path / "reports"


def test_first_publication_then_a_swap_replaces_the_folder_whole(out):
    report.begin(out)
    stage(out, "run 1")
    assert not out.exists()  # staged, not shown
    assert report.publish(out) == [out / "2022" / CODE]
    first = shown(out)
    assert set(first.values()) == {"run 1"} and len(first) == 3
    report.begin(out)
    stage(out, "run 2", names=("report.html",))  # a file the new run no longer writes goes
    assert shown(out) == first  # still the published run's
    report.publish(out)
    assert shown(out) == {
        f"2022/{CODE}/report.html": "run 2",
        f"2022/{CODE}/data_docs/index.html": "run 2",
    }
    assert not report.staging_root(out).exists()


def test_begin_discards_what_a_crashed_run_staged(out):
    stage(out, "crashed run")
    report.begin(out)
    assert not report.staging_root(out).exists()
    stage(out, "run")
    report.publish(out)
    assert set(shown(out).values()) == {"run"}


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not report._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available here")
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("b", "a")
