"""Regenerate checks/CATALOGUE.md from the catalogue."""

from pathlib import Path

from jixiao.checks.catalogue import render_markdown

Path(__file__).with_name("CATALOGUE.md").write_text(render_markdown(), encoding="utf-8")
