"""``nasrank report``: one self-contained HTML page per command's JSON.

The page is parsed with the standard library's HTML parser: it holds the exact command,
the nasrank version, every table with its rows, embedded PNG figures, and no external
reference at all (no script, stylesheet link, font or URL other than ``data:``).
Rendering it in a browser is ``benchmarks/check_report_chromium.py``'s job.
"""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nasrank._version import __version__
from nasrank.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Page(HTMLParser):
    """Tags, attributes, table captions/rows, images and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.captions: list[str] = []
        self.rows: dict[str, int] = {}
        self.images: list[str] = []
        self.code: list[str] = []
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._stack.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag == "tr" and self.captions and "tbody" in self._stack:
            self.rows[self.captions[-1]] = self.rows.get(self.captions[-1], 0) + 1

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        self.text.append(data)
        if self._stack and self._stack[-1] == "caption":
            self.captions.append(data)
        if self._stack and self._stack[-1] == "code":
            self.code.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _assert_self_contained(path: Path) -> _Page:
    text = path.read_text(encoding="utf-8")
    page = _parse(path)
    assert text.startswith("<!DOCTYPE html>")
    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(page.tags)
    for name, value in page.attrs:
        if name in ("src", "href", "action", "poster", "srcset"):
            assert value.startswith("data:image/png;base64,"), (name, value[:60])
    assert "http://" not in text and "https://" not in text and "url(" not in text
    assert "@import" not in text and "@font-face" not in text
    assert page.images
    for src in page.images:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    return page


def _report(json_path: Path, capsys) -> _Page:
    out = json_path.with_suffix(".html")
    assert main(["report", str(json_path)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    page = _assert_self_contained(out)
    provenance = json.loads(json_path.read_text())["provenance"]
    assert provenance["command"] in page.code  # the exact command, verbatim
    assert provenance["command"].startswith("nasrank ")
    assert __version__ in page.text
    return page


def test_search_report(toy_table_csv, tmp_path, capsys):
    run = tmp_path / "search.json"
    argv = ["search", "--benchmark", f"table:{toy_table_csv}", "--method", "random,re",
            "--budget", "6", "--seeds", "0..2", "--json", str(run)]  # fmt: skip
    assert main(argv) == 0
    page = _report(run, capsys)
    assert page.rows["Per method: best value at the budget, over runs"] == 2
    assert page.rows["Every run"] == 6
    assert len(page.images) == 1


def test_correlate_report_draws_the_scatter_plots_from_the_csv_its_command_wrote(
    tmp_path, capsys, monkeypatch
):
    # a correlate JSON as the command writes it (no scoring here): the page finds the
    # --csv through the provenance's command and working folder
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corr.csv").write_text(
        "arch,acc,params,jacov\n" + "".join(f"a{i},{i % 7},{i},{-(10.0**i)}\n" for i in range(9))
    )
    entry = {"spearman": 0.5, "kendall": 0.4, "top10_precision": 0.0, "nan_count": 0}
    prov = {"command": "nasrank correlate --space nb201 --benchmark table:t.csv --json corr.json "
            "--csv corr.csv", "nasrank_version": __version__, "cwd": str(tmp_path)}  # fmt: skip
    run = tmp_path / "corr.json"
    run.write_text(json.dumps({"n": 9, "space": "nb201", "benchmark": "table:t.csv",
                               "metric": "acc", "proxies": {"params": entry, "jacov": entry},
                               "provenance": prov}))  # fmt: skip
    page = _report(run, capsys)
    assert page.rows["Rank correlation with the ground truth, best first"] == 2
    assert len(page.images) == 2


@pytest.mark.slow
def test_correlate_report_with_its_csv_has_the_scatter_plots(toy_table_csv, tmp_path, capsys):
    run, scores = tmp_path / "corr.json", tmp_path / "corr.csv"
    argv = ["correlate", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}", "--n", "4",
            "--proxies", "params", "--json", str(run), "--csv", str(scores)]  # fmt: skip
    assert main(argv) == 0
    page = _report(run, capsys)
    assert page.rows["Rank correlation with the ground truth, best first"] == 1
    assert len(page.images) == 2  # the correlations and, from --csv, the scatter plots
    scores.unlink()
    page = _report(run, capsys)
    assert len(page.images) == 1 and any("need the command's --csv" in t for t in page.text)


def test_predict_eval_report(toy_table_csv, tmp_path, capsys):
    run = tmp_path / "pe.json"
    argv = ["predict-eval", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}",
            "--predictor", "gbdt", "--features", "onehot", "--train-sizes", "5,10", "--seeds",
            "2", "--no-cache", "--json", str(run)]  # fmt: skip
    assert main(argv) == 0
    page = _report(run, capsys)
    assert page.rows["Mean ± std over seeds"] == 2
    assert len(page.images) == 2  # Kendall and Spearman against the training size


def test_score_space_report(tmp_path, capsys):
    run = tmp_path / "ss.json"
    argv = ["score-space", "--space", "nb201", "--pool", "2", "--proxies", "params",
            "--store", str(tmp_path / "s.sqlite"), "--json", str(run)]  # fmt: skip
    assert main(argv) == 0
    page = _report(run, capsys)
    assert page.rows["Per proxy: architectures with a stored score, and how many of them are NaN"] == 1  # fmt: skip
    assert len(page.images) == 1


def test_a_json_without_provenance_still_reports(tmp_path, capsys):
    # e.g. written by the library (report.to_json()) or an older nasrank
    run = tmp_path / "old.json"
    run.write_text(json.dumps({"n": 3, "metric": "acc", "benchmark": "table:/x/y.csv",
                               "proxies": {"params": {"spearman": 0.5, "kendall": 0.3}}}))  # fmt: skip
    out = tmp_path / "page.html"
    assert main(["report", str(run), "-o", str(out)]) == 0
    page = _assert_self_contained(out)
    assert any("was not recorded" in t for t in page.text)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), ("{not json", "not a JSON file"), ("[1, 2]", "not a JSON object"),
     ('{"a": 1}', "is not the --json of search, correlate")],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(content, message, tmp_path, capsys):
    run = tmp_path / "run.json"
    if content is not None:
        run.write_text(content)
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert not run.with_suffix(".html").exists()


def test_the_output_may_not_be_the_input(tmp_path, capsys):
    run = tmp_path / "run.json"
    run.write_text('{"n": 2, "metric": "m", "proxies": {}}')
    before = run.read_text()
    assert main(["report", str(run), "-o", str(run)]) == 2
    assert "RUN.json itself" in capsys.readouterr().err and run.read_text() == before


@pytest.mark.parametrize("output", ["", " ", "/proc/x.html", "/proc/a/b/x.html", "FOLDER", "/",
                                    "x\x00.html", "/sys/x.html", "a" * 300 + ".html"])  # fmt: skip
def test_a_bad_output_is_one_line_exit_2_and_nothing_written(output, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FOLDER").mkdir()
    run = tmp_path / "run.json"
    run.write_text('{"n": 2, "metric": "m", "proxies": {}}')
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["report", str(run), "-o", output]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--output" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_search_report_with_a_reported_metric(toy_table_csv, tmp_path, capsys):
    run = tmp_path / "rm.json"
    argv = ["search", "--benchmark", f"table:{toy_table_csv}", "--method", "random",
            "--budget", "5", "--seeds", "0..1", "--report-metric", "params", "--json", str(run)]  # fmt: skip
    assert main(argv) == 0
    page = _report(run, capsys)
    assert page.rows["params of each run's pick, over runs"] == 1
    assert len(page.images) == 2  # the searched metric's curves and params' curves
