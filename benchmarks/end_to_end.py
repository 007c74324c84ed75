"""Wall time of the commands users feel: `slate plan` (interpreter start included; target
< 2 s), `slate demo` on the sample brief with the offline animatic (target < 15 s), and the same
demo with a cast of two reference images (`--cast Mia=… --cast Cole=…`; target < 15 s).

    .venv/bin/python benchmarks/end_to_end.py [--runs 5]

Each run uses a fresh data folder, so nothing is cached between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRIEF = (
    "A 30-second noir teaser. Night in a rain-soaked alley: Mia, a red-haired detective in a "
    "grey trench coat, waits under a flickering lamp. A car pulls up and Cole steps out holding "
    "a letter. Inside the diner, Mia reads the letter and realises she has been set up."
)


def portraits(folder: Path) -> None:
    """Two reference images, made on the spot."""
    from PIL import Image, ImageDraw

    for name, colour in (("mia", "#c04030"), ("cole", "#3050d0")):
        image = Image.new("RGB", (512, 640), colour)
        ImageDraw.Draw(image).ellipse((140, 120, 370, 380), fill="#f0c090")
        image.save(folder / f"{name}.png")


def timed(*args: str, cast: bool = False) -> float:
    slate = shutil.which("slate", path=str(Path(sys.executable).parent)) or "slate"
    with tempfile.TemporaryDirectory() as tmp:
        if cast:
            portraits(Path(tmp))
        env = {**os.environ, "SLATE_DATA_DIR": str(Path(tmp) / "data")}
        start = time.perf_counter()
        subprocess.run([slate, *args], cwd=tmp, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    plan = [timed("plan", BRIEF) for _ in range(args.runs)]
    demo = [timed("demo", BRIEF, "--out", "film") for _ in range(max(1, args.runs // 2))]
    with_cast = ("--cast", "Mia=mia.png", "--cast", "Cole=cole.png")
    cast = [
        timed("demo", BRIEF, "--out", "film", *with_cast, cast=True)
        for _ in range(max(1, args.runs // 2))
    ]
    result = {
        "plan_s": {"median": statistics.median(plan), "max": max(plan)},
        "demo_s": {"median": statistics.median(demo), "max": max(demo)},
        "demo_cast_s": {"median": statistics.median(cast), "max": max(cast)},
        "runs": {"plan": len(plan), "demo": len(demo), "demo_cast": len(cast)},
    }
    print(
        f"slate plan: median {result['plan_s']['median']:.2f}s, max {max(plan):.2f}s (target < 2 s)"
    )
    print(
        f"slate demo: median {result['demo_s']['median']:.2f}s, max {max(demo):.2f}s (target < 15 s)"
    )
    print(
        f"slate demo --cast (2 references): median {result['demo_cast_s']['median']:.2f}s, "
        f"max {max(cast):.2f}s (target < 15 s)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
