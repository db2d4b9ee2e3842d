"""The views an analyst opens first, declared once with a one-line description each
(DICTIONARY.md lists them from VIEWS).

"Latest run" is per programme, its code and year: of the runs that left its scores, metrics
or findings, the one with the greatest `runs.seq` (a run that left no finding still counts
because it left scores). Runs are ordered by that sequence, never by their ids or clocks: a
clock set back between two runs must not make the older one the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from jixiao.ingest.reviews import DISMISSED
from jixiao.said import Said
from jixiao.schemas.warehouse import latest_log_entries


@dataclass(frozen=True)
class View:
    """``source``: the table most of its columns come from, whose meanings they keep (DICTIONARY.md);
    ``columns``: the meanings of the columns it computes."""

    name: str
    description: Said
    select: str
    source: str = ""
    columns: tuple[tuple[str, Said], ...] = ()

    @property
    def sql(self) -> str:
        return f"CREATE OR REPLACE VIEW {self.name} AS\n{self.select.strip()}"


_SEVERITY_ZH = "CASE severity WHEN 'error' THEN '错误' WHEN 'warning' THEN '警示' ELSE '提示' END"

_SEVERITY_IN_CHINESE = Said("严重程度（错误 / 警示 / 提示）", "Severity in Chinese (error / warning / info)")
_LATEST_FINDINGS_COLUMNS = (
    ("severity_zh", _SEVERITY_IN_CHINESE),
    ("severity_rank", Said("严重程度序号（0 错误，1 警示，2 提示），排序用",
                           "Severity rank (0 error, 1 warning, 2 info), for sorting")),
    ("status_zh", Said("状态（新增 / 持续）", "Status in Chinese (new / open)")),
)  # fmt: skip

VIEWS: tuple[View, ...] = (
    View(
        "v_latest_run",
        Said("每个项目（项目代码与年度）最近一次运行的编号（其余视图据此取最新结果）。",
             "Each programme's (code and year) latest run (the other views take the latest "
             "results by it)."),  # fmt: skip
        """
SELECT p.programme_code, p.year, arg_max(p.run_id, r.seq) AS run_id
FROM (
  SELECT programme_code, year, run_id FROM scores
  UNION SELECT programme_code, year, run_id FROM metrics
  UNION SELECT programme_code, year, run_id FROM findings
) p
JOIN runs r USING (run_id)
WHERE p.year IS NOT NULL  -- history an older warehouse could not date (ingest.load._years)
GROUP BY p.programme_code, p.year
""",
        "runs",
        (("run_id", Said("最近一次运行的编号", "The latest run's id")),),
    ),
    View(
        "v_latest_findings",
        Said("最近一次运行的全部审计发现，含中文严重程度、状态（新增 / 持续）与排序用的严重程度序号。",
             "Every finding of the latest run, with its severity and status (new / open) in "
             "Chinese and a severity rank for sorting."),  # fmt: skip
        f"""
SELECT f.*,
  {_SEVERITY_ZH} AS severity_zh,
  CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END AS severity_rank,
  CASE status WHEN 'new' THEN '新增' WHEN 'open' THEN '持续' ELSE status END AS status_zh
FROM findings f
JOIN v_latest_run l USING (programme_code, year, run_id)
""",
        "findings",
        _LATEST_FINDINGS_COLUMNS,
    ),
    View(
        "v_findings_reviewed",
        Said("最近一次运行的每条发现及其最新的复核结论（reviews 表，按指纹对应；未复核的 decision 为空）；"
             f"counted 为假即经复核{DISMISSED}，不计入未解决的问题。",
             "Each finding of the latest run with its latest review decision (the reviews table, "
             "matched by fingerprint; decision is empty when not reviewed); counted is false when "
             "the finding was dismissed on review and is not counted as an open problem."),  # fmt: skip
        f"""
SELECT f.*, r.decision, coalesce(r.decision, '未复核') AS decision_zh, r.reason, r.reviewer,
  r.decided_at, r.source_file, r.decision IS DISTINCT FROM '{DISMISSED}' AS counted
FROM v_latest_findings f
LEFT JOIN reviews r USING (programme_code, year, fingerprint)
""",
        "findings",
        (*_LATEST_FINDINGS_COLUMNS,
         ("decision_zh", Said("复核结论，未复核的为「未复核」",
                              "Review decision in Chinese, with a Chinese word for not reviewed")),
         ("source_file", Said("复核结论的来源：复核工作簿（项目目录下的相对路径）及工作表、行",
                              "Source of the decision: the review workbook (path relative to the "
                              "programme folder), sheet and row")),
         ("counted", Said(f"是否计入未解决的问题（经复核{DISMISSED}的为假）",
                          "Whether it counts as an open problem (false when dismissed on review)"))),  # fmt: skip
    ),
    View(
        "v_findings_by_county",
        Said("最近一次运行的发现按区县与严重程度计数（区县取自 subject 的 county:530102 或证据的 "
             "county_code；涉及多个区县的发现在每个区县各计一次；county_code 为空即报告或全项目层面）。",
             "The latest run's findings counted by county and severity (the county taken from the "
             "subject's county:530102 or the evidence's county_code; a finding about several "
             "counties counts once in each; an empty county_code is the report or the whole "
             "programme)."),  # fmt: skip
        f"""
WITH located AS (
  SELECT programme_code, year, run_id, severity, status, amount_yuan,
    unnest(CASE WHEN len(codes) = 0 THEN [NULL::VARCHAR] ELSE codes END) AS county_code
  FROM (
    SELECT *, list_distinct(list_concat(
      regexp_extract_all(coalesce(subject, ''), 'county:([0-9]{{6}})', 1),
      list_filter(coalesce(json_extract_string(evidence, '$[*].county_code'), []), lambda c: c IS NOT NULL)
    )) AS codes
    FROM v_latest_findings
  )
)
SELECT programme_code, year, run_id, county_code, c.name AS county_name, severity,
  {_SEVERITY_ZH} AS severity_zh,
  count(*) AS findings,
  count(*) FILTER (WHERE status = 'new') AS new_findings,
  sum(amount_yuan) AS amount_yuan
FROM located LEFT JOIN counties c USING (programme_code, year, county_code)
GROUP BY ALL
""",
        "findings",
        (("county_code", Said("区县代码；为空即报告或全项目层面",
                              "County code; empty for the report or the whole programme")),
         ("county_name", Said("区县名称（counties 表）", "County name (the counties table)")),
         ("severity_zh", _SEVERITY_IN_CHINESE),
         ("findings", Said("发现条数", "Number of findings")),
         ("new_findings", Said("其中本次新增的条数", "Of which new in this run")),
         ("amount_yuan", Said("涉及金额合计（元）", "Total amount involved (yuan)"))),  # fmt: skip
    ),
    View(
        "v_indicator_status",
        Said("最近一次运行的三级指标：目标、记录实际值、报告自评得分与不符的报告数据、重新计算得分、权重、扣分及项目总分等级。",
             "The latest run's third-level indicators: target, actual from the records, the "
             "report's self-assessed score and figures that disagree with the records, recomputed "
             "score, weight, deduction and the programme's total grade."),  # fmt: skip
        """
WITH latest AS (
  SELECT s.* FROM scores s
  JOIN v_latest_run l USING (programme_code, year, run_id)
),
disputed AS (  -- the report's figure, where REPORT.RECORDS_DISAGREE found it against the records
  SELECT programme_code, year, run_id, substr(subject, length('indicator:') + 1) AS indicator_id,
    string_agg(claimed, '；' ORDER BY claimed) AS disputed_claim
  FROM findings
  WHERE rule_id = 'REPORT.RECORDS_DISAGREE' AND subject LIKE 'indicator:%'
  GROUP BY ALL
)
SELECT s.programme_code, s.year, s.run_id, s.level1, s.indicator_id, s.name, s.kind, m.unit,
  s.weight, s.target, s.actual, m.value AS recorded, m.value_date AS recorded_date,
  d.disputed_claim, s.claimed_score, s.score, s.deduction,
  s.score - s.claimed_score AS score_gap, t.grade, s.explanation
FROM latest s
LEFT JOIN metrics m USING (programme_code, year, run_id, indicator_id)
LEFT JOIN disputed d USING (programme_code, year, run_id, indicator_id)
LEFT JOIN (SELECT programme_code, year, run_id, grade FROM latest WHERE level = 0) t
  USING (programme_code, year, run_id)
WHERE s.level = 3
""",
        "scores",
        (("unit", Said("计量单位", "Unit of measure")),
         ("recorded", Said("记录实际值（metrics 表的度量结果）",
                           "Actual from the records (the metric's result in the metrics table)")),
         ("recorded_date", Said("记录的完成日期（时效指标）",
                                "Completion date from the records (deadline indicators)")),
         ("disputed_claim", Said("报告中与记录不符的数据（REPORT.RECORDS_DISAGREE）",
                                 "The report's figures that disagree with the records "
                                 "(REPORT.RECORDS_DISAGREE)")),
         ("score_gap", Said("重新计算得分 − 报告自评得分",
                            "Recomputed score − the report's self-assessed score"))),  # fmt: skip
    ),
    View(
        "v_ingest_status",
        Said("每个报送文件的最新状态（已接收 / 已拒收 / 已被替代）、行数、问题条数与反馈文件（仍被拒收的文件才有；"
             "被后来接收的文件替代后，其反馈文件即撤下）。",
             "Each submitted file's latest status (accepted / refused / superseded), rows, "
             "problems and feedback file (only files still refused have one; once a file "
             "accepted later supersedes it, its feedback file is withdrawn)."),  # fmt: skip
        """
SELECT programme_code, year, county_code, file, version, status,
  CASE status WHEN 'accepted' THEN '已接收' WHEN 'refused' THEN '已拒收'
    WHEN 'superseded' THEN '已被替代' ELSE status END AS status_zh,
  rows_read, rows_loaded, error_count,
  CASE WHEN status = 'refused' THEN feedback_file END AS feedback_file,
  superseded_by, sha256, run_id, ingested_at
FROM """
        + latest_log_entries("programme_code, year, file") + "\n",
        "ingest_log",
        (("status_zh", Said("状态（已接收 / 已拒收 / 已被替代）",
                            "Status in Chinese (accepted / refused / superseded)")),),  # fmt: skip
    ),
)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or refresh) every view over the tables `ingest.load.create_tables` made."""
    for view in VIEWS:
        con.execute(view.sql)
