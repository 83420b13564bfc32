"""Render ``nasrank report`` pages in headless Chromium: screenshots, and no network request.

Runs the four commands whose ``--json`` a report reads (``search``, ``correlate`` with
``--csv``, ``predict-eval``, ``score-space``; offline, on ``nb201-analog``), turns each JSON
into a page with ``nasrank report``, and for each page

* checks the HTML statically: no ``script``/``link``/``iframe``/``object``/``embed``/``base``
  tag, every ``src``/``href`` a ``data:image/png;base64`` URI, no ``http(s)://``, ``url(``,
  ``@import`` or ``@font-face`` anywhere;
* opens it in headless Chromium (``--screenshot``, with a network log ``--log-net-log``) and
  lists every request the *page* started (net-log ``URL_REQUEST_START_JOB`` events with a
  page initiator; the browser's own background requests, initiator "not an origin", are
  not the page's) -- there must be none;
* first renders a control page with one external image, whose request the check must
  see (so that "no request" means the check works, not that it is blind);
* measures the screenshot (size, share of non-white pixels) so that a blank render fails.

Screenshots land in ``--out`` (default /tmp/nasrank_report_check); look at them. Chromium
comes from the distribution (``apt-get install chromium``; no browser is downloaded).

    python benchmarks/check_report_chromium.py                 # all four commands
    python benchmarks/check_report_chromium.py --json a.json   # pages of existing JSONs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "chromium-headless-shell", "google-chrome")
#: Flags that keep the browser's own background traffic down (it is not counted anyway).
QUIET = [
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck",
]  # fmt: skip
FORBIDDEN_TAGS = ("script", "link", "iframe", "object", "embed", "base")


def commands(out: Path) -> dict[str, list[str]]:
    """name -> ``nasrank`` arguments writing ``out/NAME.json`` (offline, a minute or so)."""
    bench = ["--space", "nb201", "--benchmark", "nb201-analog"]
    return {
        "search": ["search", *bench, "--method", "robot,re,random", "--budget", "50",
                   "--seeds", "0..4"],
        "correlate": ["correlate", *bench, "--n", "40", "--proxies", "params,flops",
                      "--csv", str(out / "correlate.csv")],
        "predict-eval": ["predict-eval", *bench, "--predictor", "gbdt", "--features", "onehot",
                         "--train-sizes", "10,20,50,100", "--seeds", "3", "--no-cache"],
        "score-space": ["score-space", "--space", "nb201", "--pool", "12", "--proxies",
                        "params,flops", "--store", str(out / "scores.sqlite")],
    }  # fmt: skip


def nasrank(argv: list[str], cwd: Path) -> None:
    env = {**os.environ, "NASRANK_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "nasrank", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"nasrank {' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")


def static_problems(html: str) -> list[str]:
    """What makes a page not self-contained (empty: none)."""
    from html.parser import HTMLParser

    problems: list[str] = []

    class Check(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in FORBIDDEN_TAGS:
                problems.append(f"<{tag}> tag")
            for name, value in attrs:
                if name in ("src", "href", "srcset", "action", "poster") and not (
                    value or ""
                ).startswith("data:image/png;base64,"):
                    problems.append(f"{name}={(value or '')[:60]!r}")

    Check().feed(html)
    for pattern in (r"https?://", r"url\(", r"@import", r"@font-face"):
        if re.search(pattern, html):
            problems.append(f"text matches {pattern}")
    return problems


def page_requests(netlog: Path) -> list[str]:
    """URLs of requests the page started (not the browser's own background ones)."""
    log = json.loads(netlog.read_text())
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if names.get(event.get("type")) == "URL_REQUEST_START_JOB" and "url" in params:
            if params.get("initiator") != "not an origin":
                urls.append(str(params["url"]))
    return urls


def ink(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.uint8)
    return float((pixels < 245).mean())


def render(browser: str, page: Path, out: Path, size: str) -> dict[str, Any]:
    shot, netlog = out / f"{page.stem}.png", out / f"{page.stem}.netlog.json"
    profile = out / "chromium-profile"
    argv = [browser, *QUIET, f"--user-data-dir={profile}", f"--log-net-log={netlog}",
            f"--screenshot={shot}", f"--window-size={size}", page.resolve().as_uri()]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or not shot.exists():
        raise SystemExit(f"{browser} failed on {page} ({proc.returncode}): {proc.stderr[-2000:]}")
    return {
        "screenshot": str(shot),
        "screenshot_bytes": shot.stat().st_size,
        "ink": round(ink(shot), 4),
        "page_requests": page_requests(netlog),
        "seconds": round(seconds, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/nasrank_report_check"))
    ap.add_argument("--json", action="append", type=Path, default=[],
                    help="report these JSONs instead of running the four commands")  # fmt: skip
    ap.add_argument("--browser", help=f"Chromium binary (default: the first of {BROWSERS})")
    ap.add_argument("--window-size", default="1280,2600", help="W,H of the screenshot")
    args = ap.parse_args()
    browser = args.browser or next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        raise SystemExit("no Chromium found; install it with: apt-get install -y chromium")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    jsons = [p.resolve() for p in args.json]
    if not jsons:
        for name, argv in commands(out).items():
            path = out / f"{name}.json"
            nasrank([*argv, "--json", str(path)], out)
            jsons.append(path)
    version = subprocess.run([browser, "--version"], text=True, capture_output=True)
    results: dict[str, Any] = {"browser": version.stdout.strip()}
    # the detector itself: a page with one external image must show that request
    control = out / "control.html"
    control.write_text('<!DOCTYPE html><img src="https://nasrank-check.invalid/x.png">')
    seen = render(browser, control, out, "400,300")["page_requests"]
    results["control_page_requests"] = seen
    if seen != ["https://nasrank-check.invalid/x.png"]:
        raise SystemExit(f"the network-log check does not see a page's request: {seen}")
    failed = False
    for path in jsons:
        page = out / f"{path.stem}.html"
        nasrank(["report", str(path), "-o", str(page)], out)
        entry = {
            "html_bytes": page.stat().st_size,
            "static_problems": static_problems(page.read_text()),
        }
        entry.update(render(browser, page, out, args.window_size))
        bad = entry["static_problems"] or entry["page_requests"] or entry["ink"] < 0.02
        entry["ok"] = not bad
        failed |= bool(bad)
        results[path.stem] = entry
        print(f"{path.stem}: {'OK' if not bad else 'FAILED'} -- {entry['html_bytes']:,} B html, "
              f"{len(entry['page_requests'])} page requests, static problems "
              f"{entry['static_problems'] or 'none'}, ink {entry['ink']:.1%}, "
              f"screenshot {entry['screenshot']}")  # fmt: skip
    (out / "summary.json").write_text(json.dumps(results, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
