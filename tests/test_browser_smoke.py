"""Self-test of tests/browser.py: a tiny Gradio app in headless Chromium (a few seconds).

It also shows the selectors that work with Gradio 6 (see tests/browser.py for the helpers).
Screenshots: $TEST_ARTIFACTS or test-artifacts/ (browser-smoke-text.png, browser-smoke-image.png).
"""

import pytest

from tests import browser
from tests.browser import browser_page, chromium, requires_browser, screenshot, serve_app


def shout(text: str) -> tuple[str, dict[str, float]]:
    letters = [c for c in text if c.isalpha()] or ["?"]
    upper = sum(c.isupper() for c in letters) / len(letters)
    return text.upper(), {"upper": upper, "lower": 1 - upper}


def describe(image) -> tuple[str, dict[str, float] | None]:
    if image is None:
        return "", None
    red, green, blue = image.convert("RGB").getpixel((0, 0))
    total = red + green + blue or 1
    return f"{image.size[0]}x{image.size[1]}", {"red": red / total, "green": green / total, "blue": blue / total}


def build_demo():
    import gradio as gr

    with gr.Blocks(title="browser smoke test") as demo:
        with gr.Tabs():
            with gr.Tab("Text", id="text"):
                text = gr.Textbox(label="Text", elem_id="text-in")
                button = gr.Button("Shout", variant="primary")
                shouted = gr.Textbox(label="Shouted", interactive=False)
                case = gr.Label(label="Case", elem_id="case")
            with gr.Tab("Image", id="image"):
                image = gr.Image(label="Picture", type="pil", elem_id="picture")
                size = gr.Textbox(label="Size", interactive=False)
                colour = gr.Label(label="Colour", elem_id="colour")
        button.click(shout, text, [shouted, case])
        image.change(describe, image, [size, colour])
    return demo


@pytest.fixture(scope="module")
def app_url():
    with serve_app(build_demo()) as url:
        yield url


@pytest.fixture(scope="module")
def shared_browser():
    with chromium() as instance:
        yield instance


@requires_browser
def test_textbox_button_label(app_url, shared_browser):
    from playwright.sync_api import expect

    with browser_page(shared_browser, name="browser-smoke-text") as page:
        page.goto(app_url)
        expect(page).to_have_title("browser smoke test")
        page.get_by_label("Text", exact=True).fill("hello World")
        page.get_by_role("button", name="Shout").click()
        expect(page.get_by_label("Shouted")).to_have_value("HELLO WORLD")
        expect(page.locator("#case [data-testid=label-output-value]")).to_have_text("lower")
        expect(page.locator("#case [data-testid=upper-confidence-set] dd")).to_have_text("10%")
        path = screenshot(page, "browser-smoke-text")
    assert path.stat().st_size > 5_000


@requires_browser
def test_tabs_and_image_upload(app_url, shared_browser, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect

    picture = tmp_path / "blue.png"
    Image.new("RGB", (40, 30), (10, 20, 220)).save(picture)
    with browser_page(shared_browser, name="browser-smoke-image") as page:
        page.goto(app_url)
        # Components of a tab that is not selected are not in the DOM yet.
        expect(page.locator("#picture input[type=file]")).to_have_count(0)
        page.get_by_role("tab", name="Image").click()
        expect(page.get_by_role("tab", name="Image")).to_have_attribute("aria-selected", "true")
        page.locator("#picture input[type=file]").set_input_files(picture)
        expect(page.get_by_label("Size")).to_have_value("40x30")
        expect(page.locator("#colour [data-testid=label-output-value]")).to_have_text("blue")
        screenshot(page, "browser-smoke-image")


def test_skip_reason_says_how_to_get_the_browser(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM_PATH", tmp_path / "no-chromium")
    reason = browser.missing_browser()
    assert reason and str(tmp_path / "no-chromium") in reason and "make browser" in reason
