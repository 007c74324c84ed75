"""The demo's review page, opened in headless Chromium: a screenshot, and every clip loads."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo import run_demo
from bot.settings import Settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (make test installs it)"
)

# Loads the page in a same-origin frame and reports each <video>'s fate once all have settled.
CHECK_PAGE = """<!doctype html><html><body><iframe id=f src="index.html" width=1280 height=900></iframe>
<pre id=result>pending</pre><script>
const frame = document.getElementById('f');
frame.onload = () => {
  const videos = [...frame.contentDocument.querySelectorAll('video')];
  const fate = v => new Promise(done => {
    if (v.readyState >= 2) return done('loaded');
    v.addEventListener('loadeddata', () => done('loaded'), {once: true});
    v.addEventListener('error', () => done('error:' + (v.error && v.error.code)), {once: true});
  });
  Promise.all(videos.map(fate)).then(states => {
    document.getElementById('result').textContent = 'RESULT ' + JSON.stringify(
      videos.map((v, i) => [v.id || v.className, states[i], v.videoWidth]));
  });
};
</script></body></html>"""

# Each player's box against the picture inside it: the space left below the picture is where the
# browser draws its controls, so the caption burned into the frame's bottom stays visible.
LAYOUT_PAGE = """<!doctype html><html><body><iframe id=f src="index.html" width=1280 height=900></iframe>
<pre id=result>pending</pre><script>
const frame = document.getElementById('f');
frame.onload = () => {
  const videos = [...frame.contentDocument.querySelectorAll('video')];
  const meta = v => new Promise(done => {
    if (v.readyState >= 1) return done();
    v.addEventListener('loadedmetadata', () => setTimeout(done, 50), {once: true});
  });
  Promise.all(videos.map(meta)).then(() => {
    document.getElementById('result').textContent = 'RESULT ' + JSON.stringify(videos.map(v => {
      const box = v.getBoundingClientRect();
      return [box.height, box.width * v.videoHeight / v.videoWidth];
    }));
  });
};
</script></body></html>"""


@pytest.fixture(scope="module")
def demo_dir() -> Iterator[Path]:
    import asyncio

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "film"
        settings = Settings(data_dir=out / ".slate", _env_file=None)  # type: ignore[call-arg]
        brief = (
            "A 12-second teaser. Mia waits in a rain-soaked alley at night. "
            "Cole hands her a letter in the diner."
        )
        assert asyncio.run(run_demo(settings, brief, out)) == 0
        (out / "check.html").write_text(CHECK_PAGE, encoding="utf-8")
        (out / "layout.html").write_text(LAYOUT_PAGE, encoding="utf-8")
        yield out


@pytest.fixture(scope="module")
def served(demo_dir: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(demo_dir))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={user_data}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@needs_chromium
def test_every_clip_loads(served: str, demo_dir: Path, tmp_path: Path) -> None:
    result = chromium(
        "--virtual-time-budget=20000",
        "--dump-dom",
        f"{served}/check.html",
        user_data=tmp_path / "profile",
    )
    match = re.search(r"RESULT (\[.*\])", result.stdout)
    assert match, result.stdout[-2000:] + result.stderr[-2000:]
    import json

    states = json.loads(match.group(1))
    clips = len(list((demo_dir / "shots").glob("*.mp4")))
    assert len(states) == clips + 1  # every shot plus the final cut
    assert all(state == "loaded" and width > 0 for _, state, width in states), states


@needs_chromium
def test_the_controls_sit_below_the_picture(served: str, tmp_path: Path) -> None:
    result = chromium(
        "--virtual-time-budget=20000",
        "--dump-dom",
        f"{served}/layout.html",
        user_data=tmp_path / "profile",
    )
    match = re.search(r"RESULT (\[.*\])", result.stdout)
    assert match, result.stdout[-2000:] + result.stderr[-2000:]
    import json

    boxes = json.loads(match.group(1))
    assert boxes and all(box - picture >= 60 for box, picture in boxes), boxes


@needs_chromium
def test_screenshot(served: str, tmp_path: Path) -> None:
    shot = tmp_path / "review.png"
    chromium(
        "--window-size=1280,1600",
        f"--screenshot={shot}",
        f"{served}/index.html",
        user_data=tmp_path / "profile",
    )
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        # A rendered page, not a blank one: the dark theme and the posters give many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50


def test_paths_are_urls_and_text_is_escaped(tmp_path: Path) -> None:
    from bot.review import ShotCard, write_review_page
    from studio.models import Shot, ShotList

    shotlist = ShotList(
        title="<Noir & Co>", shots=[Shot(number="1", description="Mia's <b>cue</b>")]
    )
    card = ShotCard(
        "1",
        "shots/shot #1?.mp4",
        "shots/shot #1?.png",
        7,
        "animatic",
        1.0,
        "it's <raining>",
        approved=False,
    )
    page = write_review_page(
        tmp_path / "index.html", shotlist, [card], "final cut#1.mp4", "contact sheet.png"
    ).read_text()
    assert "src='shots/shot%20%231%3F.mp4'" in page and "poster='shots/shot%20%231%3F.png'" in page
    assert "src='final%20cut%231.mp4'" in page and "href='contact%20sheet.png'" in page
    assert (
        "<b>" not in page
        and "&lt;Noir &amp; Co&gt;" in page
        and "it&#x27;s &lt;raining&gt;" in page
    )
