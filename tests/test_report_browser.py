"""End to end: the report of a real LIF run and a Gibbs run renders in headless Chromium.

Every ``<img>`` must have loaded (decoded, non-zero size) and the page must log
no console error and raise no JavaScript error.  Needs Debian's ``chromium``
(``/usr/bin/chromium``) and the Python package ``playwright`` (which drives
that browser; no browser download).  Without them the test is skipped -- unless
``LIFSAMPLING_REQUIRE_BROWSER=1`` (set by ``.ci/run``), then it fails.

``LIFSAMPLING_SCREENSHOT_DIR=DIR`` keeps full-page screenshots for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import lifsampling as ls

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if chromium is None or sync_playwright is None:
        missing = (
            "chromium (apt install chromium)" if chromium is None else "playwright (pip install playwright)"
        )
        if os.environ.get("LIFSAMPLING_REQUIRE_BROWSER") == "1":
            pytest.fail(f"LIFSAMPLING_REQUIRE_BROWSER=1 but {missing} is missing")
        pytest.skip(f"{missing} is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, path: Path, screenshot: Path | None) -> dict:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: messages.append(f"request failed: {r.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    images = page.evaluate(
        "Array.from(document.images).map(i => ({id: i.closest('figure') ? i.closest('figure').id : '',"
        " complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))"
    )
    text = page.inner_text("body")
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {"images": images, "messages": messages, "text": text}


def test_report_renders_in_chromium(browser, report_runs, report_target, tmp_path):
    report = ls.write_report(report_runs, tmp_path / "report", report_target)
    keep = os.environ.get("LIFSAMPLING_SCREENSHOT_DIR")
    shot = Path(keep) / "report.png" if keep else tmp_path / "report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page = _open(browser, report.html_path, shot)

    assert page["messages"] == []
    ids = [img["id"] for img in page["images"]]
    assert ids == ["dkl", "marginals", "joint"] + [
        f"{kind}-{n}" for n in (0, 1) for kind in ("energy", "autocorr", "rank")
    ]
    for img in page["images"]:
        assert img["complete"] and img["width"] > 100 and img["height"] > 100, img
    for label in ("LIF", "Gibbs"):
        assert f"{label}: {report.summary['verdicts'][label]['status']}." in page["text"]
    assert shot.stat().st_size > 10_000
