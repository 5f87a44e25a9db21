"""Draws the web app icons (icon-192.png, icon-512.png) as icon.svg shows them; run once after changing them:
`python -m dashboard.icons`. Plain zlib PNG, no imaging library."""

from __future__ import annotations

import itertools
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
GREEN, WHITE = (0x0F, 0x6B, 0x5C), (0xFF, 0xFF, 0xFF)
LINE = ((12, 44), (26, 30), (34, 38), (52, 18))  # icon.svg's path, on a 64 x 64 grid
STROKE = 3.0  # half the path's width


def _near_line(x: float, y: float) -> bool:
    for (ax, ay), (bx, by) in itertools.pairwise(LINE):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        if (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= STROKE**2:
            return True
    return False


def pixels(size: int) -> bytes:
    """Rows of RGB, each led by PNG's filter byte; a full-bleed square, so it is also maskable."""
    scale = 64 / size
    rows = bytearray()
    for py in range(size):
        rows.append(0)
        for px in range(size):
            rows.extend(WHITE if _near_line((px + 0.5) * scale, (py + 0.5) * scale) else GREEN)
    return bytes(rows)


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels(size), 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    for size in (192, 512):
        (HERE / f"icon-{size}.png").write_bytes(png(size))
