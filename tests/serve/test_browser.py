"""The page at `GET /` in a real browser: headless Chromium driven by Selenium.

A digit drawn with the mouse, a table's form filled in, a PNG chosen in the file input: each is
submitted with the page's Predict button, and the answer and latency the page shows are read back
and checked against the API's answer for the same input. Skipped only where Chromium or its
driver is not installed (`apt-get install chromium chromium-driver`; `.ci/run` installs them).

`SERVE_PAGE_SCREENSHOT=docs/serve-page.png python -m pytest tests/serve/test_browser.py` also
writes the documentation's picture of the page with a drawn digit and its answer.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from workbench.serve.app import create_app
from workbench.serve.server import background_server

webdriver = pytest.importorskip("selenium.webdriver")

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

LATENCY = re.compile(r"^ (\d+\.\d) ms round trip, (\d+\.\d) ms in the server$")


def _browser_paths() -> tuple[str, str] | None:
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.path.isfile(p)), None)
    return (browser, driver) if browser and driver else None


# decided before any fixture: the session's trained runs are not worth making for nothing
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(_browser_paths() is None, reason="Chromium or chromedriver is not installed "
                                 "(apt-get install chromium chromium-driver)")]


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    paths = _browser_paths()
    assert paths is not None
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = paths[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=820,900", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    with pytest.MonkeyPatch.context() as patch:
        # Both paths are given, so Selenium Manager has nothing to look up; offline it must not try.
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def serve_url(served) -> Iterator:
    """serve_url(run) -> the base URL of that run's model served in this process."""
    servers = []

    def start(run: Path) -> str:
        server = background_server(create_app(served(run)))
        servers.append(server)
        return server.__enter__()

    yield start
    for server in reversed(servers):
        server.__exit__(None, None, None)


def _open(driver, url: str) -> None:
    driver.get(url + "/")
    # the form is built once /metadata has answered
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "meta").text != "loading…")


def _predict(driver) -> tuple[list[str], float, float]:
    """Click Predict; the answer as the page shows it (see `_shown`) and the two latencies."""
    driver.execute_script("document.getElementById('latency').textContent = '';"
                          "document.getElementById('answer').textContent = '';")
    driver.find_element(By.ID, "run").click()
    try:
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "answer").text.strip())
    except TimeoutException:
        pytest.fail(f"no answer on the page; latency line: {driver.find_element(By.ID, 'latency').text!r}")
    latency = driver.execute_script("return document.getElementById('latency').textContent")
    match = LATENCY.match(latency)
    assert match, f"latency line {latency!r}"
    shown = [driver.find_element(By.CSS_SELECTOR, "#answer .top").text]
    cells = driver.find_elements(By.CSS_SELECTOR, "#answer .bars .cls, #answer .bars .pct")
    shown += [f"{name.text} {pct.text}" for name, pct in zip(cells[::2], cells[1::2])]
    return shown, float(match[1]), float(match[2])


def _shown(answer: dict) -> list[str]:
    """What the page should show for one classification answer: the class and its probability,
    then a line (class, bar, probability) for each of the most likely classes."""
    percent = lambda q: f"{100 * q:.1f}%"  # noqa: E731
    return [f"{answer['class']} {percent(answer['probability'])}",
            *(f"{t['class']} {percent(t['probability'])}" for t in answer["top"])]


def _draw_digit(driver) -> None:
    """A zero: one stroke round an ellipse on the drawing canvas."""
    canvas = driver.find_element(By.ID, "canvas")
    points = [(int(80 * np.sin(a)), int(-105 * np.cos(a))) for a in np.linspace(0, 2 * np.pi, 25)]
    actions = ActionChains(driver, duration=10).move_to_element_with_offset(canvas, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        actions.move_by_offset(x1 - x0, y1 - y0)
    actions.release().perform()


def test_a_digit_drawn_on_the_page_is_answered_as_the_api_answers_it(browser, digits_run, serve_url) -> None:
    url = serve_url(digits_run)
    _open(browser, url)
    assert browser.find_element(By.ID, "title").text == "digits-mlp"
    assert "Draw (8×8 gray)" in browser.find_element(By.ID, "form").text
    _draw_digit(browser)
    pixels = browser.execute_script("return canvasPixels()")
    grid = np.array(pixels)
    assert grid.shape == (8, 8) and grid.max() > 0.9 and grid.min() == 0.0  # a stroke, not a filled square
    text, round_trip, in_server = _predict(browser)
    expected = httpx.post(f"{url}/predict", json={"instances": [pixels]}, timeout=30).json()["predictions"][0]
    assert text == _shown(expected)
    assert round_trip >= in_server > 0
    # a second drawing after Clear gives the canvas's new pixels, not the old ones
    browser.find_element(By.XPATH, "//button[text()='Clear']").click()
    assert np.array(browser.execute_script("return canvasPixels()")).max() == 0.0
    _draw_digit(browser)
    shot = os.environ.get("SERVE_PAGE_SCREENSHOT")
    text, _, _ = _predict(browser)
    assert text == _shown(httpx.post(f"{url}/predict", json={"instances": [
        browser.execute_script("return canvasPixels()")]}, timeout=30).json()["predictions"][0])
    # the window's height less its viewport's is the frame; make the viewport hold the whole page
    frame = browser.get_window_size()["height"] - browser.execute_script("return window.innerHeight")
    browser.set_window_size(820, frame + browser.execute_script("return document.documentElement.scrollHeight"))
    png = browser.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG")
    if shot:
        Path(shot).write_bytes(png)


def test_the_table_form_sends_the_features_as_typed(browser, table_run, serve_url) -> None:
    url = serve_url(table_run)
    _open(browser, url)
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#form label")]
    assert labels == ["age", "color", "size"]
    for name, value in (("age", "42.5"), ("size", "4.2")):
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    Select(browser.find_element(By.NAME, "color")).select_by_visible_text("red")
    # the label names its field: clicking it focuses the input
    browser.find_element(By.XPATH, "//label[text()='size']").click()
    assert browser.switch_to.active_element.get_attribute("name") == "size"
    text, round_trip, in_server = _predict(browser)
    row = {"age": 42.5, "color": "red", "size": 4.2}
    expected = httpx.post(f"{url}/predict", json={"instances": [row]}, timeout=30).json()["predictions"][0]
    assert text == _shown(expected)
    assert expected["class"] in ("big", "small") and round_trip >= in_server > 0


def test_an_image_chosen_in_the_file_input_is_answered_and_a_missing_one_is_a_named_error(
        browser, image_run, serve_url, tmp_path) -> None:
    from PIL import Image

    url = serve_url(image_run)
    _open(browser, url)
    assert not browser.find_elements(By.ID, "canvas")  # colour images are dropped, not drawn
    # Predict before choosing an image: the server's 422 is shown, naming the field
    browser.find_element(By.ID, "run").click()
    error = WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .error"))[0]
    assert error.text.startswith("422: ") and "instances[0]" in error.text
    pixels = np.zeros((12, 12, 3), np.uint8)
    pixels[:, :, 0] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    path = tmp_path / "red.png"
    path.write_bytes(buffer.getvalue())
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(path))
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "drop").text == "red.png")
    text, _, _ = _predict(browser)
    image = base64.b64encode(path.read_bytes()).decode("ascii")
    expected = httpx.post(f"{url}/predict", json={"instances": [image]}, timeout=30).json()["predictions"][0]
    assert text == _shown(expected)
    assert expected["class"] in ("cats", "dogs")
