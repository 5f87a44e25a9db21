"""The dashboard's build: copies each asset the `dashboard` function serves from dashboard/ into
functions/dashboard_assets/ (the only part of the dashboard that is uploaded). `python -m dashboard.build`;
tests/dashboard checks the copy is current."""

from __future__ import annotations

import shutil
from pathlib import Path

from functions.dashboard import ASSETS, ASSETS_DIR

SOURCES = Path(__file__).resolve().parent


def build(sources: Path = SOURCES, target: Path = ASSETS_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.iterdir():
        if stale.name not in ASSETS:
            stale.unlink()
    return [Path(shutil.copyfile(sources / name, target / name)) for name in ASSETS]


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(SOURCES.parent))
