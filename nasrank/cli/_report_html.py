"""A self-contained static HTML page: inline CSS, figures as base64 PNG ``data:`` URIs,
no script, no font, no link and no other URL -- a file that opens offline and can be
attached to a paper's supplement as it is.

:func:`render_page` turns a :class:`Page` (facts, sections of paragraphs, tables and
figures, the provenance of the result) into the HTML text; every text is escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Figure", "Page", "Section", "Table", "figure_png", "render_page"]

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
  sans-serif; color: #1d1f21; margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.55em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.2em; margin: 1.6em 0 0.5em; border-bottom: 1px solid #ddd;
  padding-bottom: 0.2em; }
p.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.4em 0 1.2em; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; padding: 0 0 0.35em; white-space: nowrap; }
th, td { border: 1px solid #d4d4d4; padding: 3px 8px; vertical-align: top; }
th { background: #f0f2f4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.code, dd code, td code { font-family: ui-monospace, Menlo, Consolas, monospace;
  font-size: 0.92em; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; }
dl.facts dt { font-weight: 600; color: #333; }
dl.facts dd { margin: 0; word-break: break-word; }
pre { background: #f4f5f7; border: 1px solid #ddd; padding: 8px 10px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; font-size: 0.85em; }
figure { margin: 0.6em 0 1.4em; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { color: #444; font-size: 0.9em; margin-top: 0.3em; }
.scroll { overflow-x: auto; }
footer { color: #777; font-size: 0.85em; margin-top: 2.5em; }
"""


@dataclass(frozen=True)
class Table:
    """A table: caption, column names, rows of cells (formatted as the CLI formats them)."""

    caption: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Figure:
    """A PNG image and what it shows."""

    png: bytes
    caption: str
    alt: str


@dataclass
class Section:
    """A heading with paragraphs, tables and figures, in that order."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    preformatted: list[str] = field(default_factory=list)


@dataclass
class Page:
    """What a report shows."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    command: str | None
    provenance: list[tuple[str, str]]
    footer: str
    raw_json: str | None = None


def figure_png(fig: Any, *, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    from nasrank.cli._output import fmt

    text = fmt(value)
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    klass = ' class="num"' if numeric else (' class="code"' if "|" in text else "")
    return f"<td{klass}>{html.escape(text)}</td>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "\n".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    return (
        f'<div class="scroll"><table>\n<caption>{html.escape(table.caption)}</caption>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>"
    )


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(figure.alt)}">'
        f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
    )


def _section(section: Section) -> str:
    parts = [f"<section>\n<h2>{html.escape(section.heading)}</h2>"]
    parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
    parts += [_table(t) for t in section.tables]
    parts += [_figure(f) for f in section.figures]
    parts += [f"<pre>{html.escape(text)}</pre>" for text in section.preformatted]
    parts.append("</section>")
    return "\n".join(parts)


def _facts(facts: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts if v != ""
    )
    return f'<dl class="facts">{items}</dl>'


def render_page(page: Page) -> str:
    """The page as one HTML document (UTF-8, no external reference of any kind)."""
    command = (
        f'<pre class="command"><code>{html.escape(page.command)}</code></pre>'
        if page.command
        else "<p>The command was not recorded in this JSON (it was written by a nasrank "
        "without provenance, or by the library); the settings below are what it holds.</p>"
    )
    raw = (
        "<section><h2>The JSON</h2><details><summary>show the full JSON this page was made "
        f"from</summary><pre>{html.escape(page.raw_json)}</pre></details></section>"
        if page.raw_json is not None
        else ""
    )
    body = "\n".join(
        [
            f"<h1>{html.escape(page.title)}</h1>",
            f'<p class="sub">{html.escape(page.subtitle)}</p>',
            "<section><h2>Command</h2>",
            command,
            _facts(page.provenance),
            "</section>",
            "<section><h2>Settings and data</h2>",
            _facts(page.facts),
            "</section>",
            *(_section(s) for s in page.sections),
            raw,
            f"<footer>{html.escape(page.footer)}</footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(page.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
