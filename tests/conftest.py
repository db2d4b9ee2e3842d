"""Shared test set-up: an isolated hashing key and Prefect home, and one Prefect harness."""

import os
import re
import tempfile
from pathlib import Path

import pytest

# Set before any test module imports Prefect or reads the key: nothing touches the user's home.
_HOME = Path(tempfile.mkdtemp(prefix="jixiao-tests-"))
os.environ["JIXIAO_HASH_KEY_FILE"] = str(_HOME / "hash.key")
os.environ["PREFECT_HOME"] = str(_HOME / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

REPO = Path(__file__).resolve().parent.parent


def own_chinese(said: str, source: str) -> set[str]:
    """The Chinese in ``said`` that is no run of the report's own words (``source``, spaces
    aside): what output under ``--lang en`` must not hold."""
    from jixiao.schemas.vocabulary import fold  # noqa: PLC0415 - after the environment above

    words = re.sub(r"\s+", "", fold(source))
    return {run for run in re.findall(r"[\u4e00-\u9fff]+", fold(said)) if run not in words}


@pytest.fixture(scope="session")
def prefect_api():
    """One temporary Prefect server for every flow test; yields its API URL for subprocesses."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def pdf_ok():
    """The report writer can render a PDF here: fpdf2 and a font that writes Chinese."""
    pytest.importorskip("fpdf", reason="fpdf2 (a test dependency) renders the PDFs")
    from jixiao.sample.report_writer import FontUnavailable, cjk_font  # noqa: PLC0415

    try:
        cjk_font()
    except FontUnavailable as missing:
        pytest.skip(f"no Chinese font to render a PDF with: {missing}")


# A programme folder and an intake context on a real DuckDB file, for the tests that run
# ingest.intake.process themselves (tests/test_intake.py builds both).
@pytest.fixture
def folder(tmp_path: Path) -> Path:
    from tests.test_intake import programme_folder  # noqa: PLC0415 - a test module, loaded when used

    return programme_folder(tmp_path)


@pytest.fixture
def ctx(tmp_path: Path, folder: Path):
    from tests.test_intake import context  # noqa: PLC0415

    ctx = context(tmp_path, folder)
    yield ctx
    ctx.con.close()
