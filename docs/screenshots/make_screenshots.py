"""Regenerate the dashboard screenshots in this folder (SVG, Textual's own screenshot).

    python docs/screenshots/make_screenshots.py

Every screen is driven the way a user drives it (key presses, headless), over the committed
sample store, at 80x24 (an SSH session's default) and 200x50; the runs table and a filter also
over a store of 10,000 runs (built in bulk, as the dashboard benchmark builds it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tui import build_store  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.runs_table import RunsTable  # noqa: E402

SAMPLE = ROOT / "sample_data" / "mlstore"
SIZES = {"80x24": (80, 24), "200x50": (200, 50)}


async def settle(pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.2)


async def shoot(store: Path, name: str, size: tuple[int, int], keys: list[str], marks: list[str]) -> None:
    app = make_app(store, refresh_seconds=3600)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        for run in marks:
            app.screen.query_one(RunsTable).move_to_run(run)
            await pilot.press("space")
        for key in keys:
            await pilot.press(*(list(key[1:]) if key.startswith("=") else [key]))
            await settle(pilot)
        app.save_screenshot(f"{name}.svg", str(HERE))


SCENES = {
    "runs": ([], []),
    "filter": (["slash", "=val/accuracy > 0.8 and model = 'resnet18'", "enter"], []),
    "filter-error": (["slash", "=val/accuracy >> 0.8"], []),
    "details": (["enter"], []),
    "plot": (["p", "j", "j"], ["resnet18-lr0.1", "resnet18-lr0.03", "resnet18-lr0.3"]),
    "diff": (["d"], ["resnet18-lr0.1", "resnet18-lr0.03", "resnet18-lr0.3"]),
    "help": (["question_mark"], []),
    "export": (["e"], []),
    "registry": (["m"], []),
}


async def main() -> None:
    os.chdir(ROOT)  # paths on screen are shown relative to here: no machine path in the images
    for label, size in SIZES.items():
        for scene, (keys, marks) in SCENES.items():
            await shoot(SAMPLE, f"{scene}-{label}", size, keys, marks)
    with tempfile.TemporaryDirectory() as empty:
        os.chdir(empty)
        await shoot(Path("mlstore"), "empty-80x24", SIZES["80x24"], [], [])
        build_store(Path("mlstore"), 10_000, 3, 5)
        await shoot(Path("mlstore"), "runs-10000-200x50", SIZES["200x50"], [], [])
        await shoot(Path("mlstore"), "filter-10000-200x50", SIZES["200x50"],
                    ["slash", "=params.lr = '0.01' and loss < 0.5", "enter", "s"], [])
        os.chdir(ROOT)


if __name__ == "__main__":
    asyncio.run(main())
