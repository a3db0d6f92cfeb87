"""Put a few photos in a folder: real ones copied from a sample set, else generated.

    python packaging/smoke/make_photos.py OUT_DIR [COUNT] [--from DIR]

Copies the first COUNT JPEGs of ``--from`` (the COCO sample beside the
checkout, ``../shared/photos/coco/images``, by default) when it exists;
otherwise draws COUNT distinct pictures with Pillow. Prints how many it made
and where they came from.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "photos" / "coco" / "images"


def copy_photos(source: Path, out_dir: Path, count: int) -> int:
    """Copy up to ``count`` JPEGs of ``source`` (sorted by name); how many were copied."""
    files = sorted(source.glob("*.jpg"))[:count]
    for file in files:
        shutil.copy2(file, out_dir / file.name)
    return len(files)


def draw_photos(out_dir: Path, count: int) -> int:
    """Draw ``count`` distinct little pictures (background and shapes); ``count``."""
    from PIL import Image, ImageDraw

    for index in range(count):
        rng = random.Random(index)
        image = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(5):
            x0, x1 = sorted(rng.randrange(320) for _ in range(2))
            y0, y1 = sorted(rng.randrange(240) for _ in range(2))
            draw.ellipse((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
        image.save(out_dir / f"generated_{index:03d}.jpg", quality=90)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("count", type=int, nargs="?", default=8)
    parser.add_argument("--from", dest="source", type=Path, default=SAMPLES)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.source.is_dir():
        made = copy_photos(args.source, args.out_dir, args.count)
        print(f"{made} photos copied from {args.source}")
    else:
        made = draw_photos(args.out_dir, args.count)
        print(f"{made} photos generated ({args.source} is absent)")
    return 0 if made else 1


if __name__ == "__main__":
    raise SystemExit(main())
