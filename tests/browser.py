"""Headless-browser helpers for tests of the Gradio app: Debian's Chromium driven by Playwright.

Everything runs offline: the app is served on 127.0.0.1, Gradio's analytics and share links are
off, and the browser aborts every request that does not go to the loopback interface.

Setup (once per machine): ``make browser`` installs Debian's ``chromium`` (root; CI does it in
``.ci/run``), and ``pip install -r requirements-test.txt`` installs Playwright for Python (``make
setup`` does it). ``playwright install`` is not needed and does not work offline. Tests marked
``@requires_browser`` are skipped, with the reason, where either is missing; with
``REQUIRE_BROWSER_TESTS=1`` (set by ``.ci/run``) they run anyway and fail, so CI cannot skip them.

Usage::

    import gradio as gr
    from playwright.sync_api import expect

    from tests.browser import browser_page, requires_browser, screenshot, serve_app

    @requires_browser
    def test_upper():
        with gr.Blocks() as demo:
            text = gr.Textbox(label="Text")
            ...
        with serve_app(demo) as url, browser_page(name="upper") as page:
            page.goto(url)
            page.get_by_label("Text").fill("hi")
            page.get_by_role("button", name="Go").click()
            expect(page.get_by_label("Result")).to_have_value("HI")
            screenshot(page, "upper")

To share one Chromium between the tests of a module, open ``chromium()`` in a module-scoped
fixture and pass it as ``browser_page(browser=...)`` (each page still gets a fresh context).

Screenshots go to ``$TEST_ARTIFACTS`` (default: ``test-artifacts/`` in the repository root, which
git ignores). ``browser_page(name=...)`` also saves ``<name>-failure.png`` there when its block
raises, so a failing CI run leaves a picture of the page.

Environment knobs: ``CHROMIUM_PATH`` (default ``/usr/bin/chromium``), ``TEST_ARTIFACTS``,
``BROWSER_TIMEOUT_MS`` (default 15000: Playwright actions and ``expect`` assertions),
``REQUIRE_BROWSER_TESTS``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    import gradio as gr
    from playwright.sync_api import Browser, Locator, Page

# Offline before gradio is imported or any Blocks is built: Blocks() reads GRADIO_ANALYTICS_ENABLED
# when it is created (a version check thread), launch() when it starts. Import this module before
# the app module so that an app built at import time also sees it.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Loopback must never go through a proxy: gradio's launch() checks its own URL with httpx, which
# honours HTTP(S)_PROXY.
for _name in ("NO_PROXY", "no_proxy"):
    _hosts = [h for h in os.environ.get(_name, "").split(",") if h]
    os.environ[_name] = ",".join(_hosts + [h for h in ("127.0.0.1", "localhost") if h not in _hosts])

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_PATH = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = (
    "--no-sandbox",  # we run as root in CI; Chromium's sandbox refuses root
    "--disable-gpu",
    "--disable-background-networking",
    # Debian's launcher only adds this when it can parse the size of /dev/shm; containers often
    # have a 64 MB /dev/shm, where Chromium crashes without it.
    "--disable-dev-shm-usage",
)
TIMEOUT_MS = int(os.environ.get("BROWSER_TIMEOUT_MS", "15000"))
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def missing_browser() -> str | None:
    """Why browser tests cannot run here (what is missing and how to get it), or None."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append(
            f"Playwright for Python is not installed in {sys.prefix} (run: pip install -r requirements-test.txt)"
        )
    if not os.access(CHROMIUM_PATH, os.X_OK):
        missing.append(
            f"Chromium not found at {CHROMIUM_PATH} (run: make browser, as root; it installs Debian's chromium, "
            "or set CHROMIUM_PATH)"
        )
    return "; ".join(missing) or None


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER_TESTS", "").lower() in ("1", "true", "yes")


_MISSING = missing_browser()
requires_browser = pytest.mark.skipif(
    _MISSING is not None and not _browser_required(),
    reason=f"headless browser unavailable: {_MISSING}",
)
"""Skip marker for tests that need Chromium + Playwright. Use as ``@requires_browser`` or
``pytestmark = requires_browser``."""


def artifacts_dir() -> Path:
    """The directory for screenshots and other test artefacts (created): ``$TEST_ARTIFACTS`` or
    ``<repo>/test-artifacts``."""
    path = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``<artifacts_dir>/<name>.png`` and return its path."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "page"
    path = artifacts_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def expect_image_loaded(image: Locator) -> None:
    """Wait until the ``<img>`` that ``image`` finds is visible and its picture is decoded (not a broken link)."""
    from playwright.sync_api import expect

    expect(image).to_be_visible()
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def _require_browser() -> None:
    reason = missing_browser()
    if reason:
        raise RuntimeError(f"headless browser unavailable: {reason}")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Debian Chromium (``CHROMIUM_PATH``, ``CHROMIUM_ARGS``) driven by Playwright;
    closed, with Playwright's driver, on exit. Use one per module to save about a second a test."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about", "file") or (parts.hostname or "") in LOOPBACK


@contextmanager
def browser_page(
    browser: Browser | None = None,
    *,
    name: str | None = None,
    viewport: tuple[int, int] = (1280, 900),
    block_external: bool = True,
) -> Iterator[Page]:
    """A fresh Playwright page (own context: no cookies or storage shared with other pages).

    ``browser``: an open ``chromium()`` to use; by default one is started and closed with the page.
    ``name``: if the block raises, the page is saved as ``<artifacts_dir>/<name>-failure.png``.
    ``block_external``: abort every request that leaves 127.0.0.1/localhost or local files (fonts, CDNs,
    analytics), so a test never waits on the network; the aborted URLs are printed on exit
    (pytest shows them with a failing test).
    Actions and ``expect`` assertions time out after ``BROWSER_TIMEOUT_MS`` (15 s).
    """
    from playwright.sync_api import expect

    with chromium() if browser is None else nullcontext(browser) as active:
        context = active.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        blocked: list[str] = []
        if block_external:

            def route(route):
                if _is_local(route.request.url):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort("internetdisconnected")

            context.route("**/*", route)
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page
        except BaseException:
            if name:
                try:
                    print(f"browser_page: failure screenshot {screenshot(page, f'{name}-failure')}")
                except Exception as error:  # the page may be gone; keep the original error
                    print(f"browser_page: no failure screenshot ({error})")
            raise
        finally:
            if blocked:
                print(f"browser_page: aborted {len(blocked)} non-local request(s): {blocked[:10]}")
            context.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_app(demo: gr.Blocks, **launch_kwargs) -> Iterator[str]:
    """Serve a Gradio Blocks app on 127.0.0.1 at a free port, in Gradio's background thread, and
    yield its URL (``http://127.0.0.1:PORT/``); the server is closed on exit.

    Offline: no share link, no analytics, no server-side rendering (it would start Node), no MCP
    server. ``launch_kwargs`` go to ``demo.launch`` and override these defaults.
    """
    demo.analytics_enabled = False  # in case the Blocks was built before this module was imported
    options = dict(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        quiet=True,
        share=False,
        inbrowser=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )
    options.update(launch_kwargs)
    port = options.pop("server_port", None)
    for attempt in range(3):
        try:
            demo.launch(server_port=port or free_port(), **options)
            break
        except OSError:  # another process took the port between free_port() and launch()
            if port or attempt == 2:
                raise
    try:
        yield demo.local_url
    finally:
        demo.close(verbose=False)


__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_PATH",
    "artifacts_dir",
    "browser_page",
    "chromium",
    "expect_image_loaded",
    "free_port",
    "missing_browser",
    "requires_browser",
    "screenshot",
    "serve_app",
]
