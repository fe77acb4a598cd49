"""What does making a finished frame durable cost? The job store's frame write (write_bytes_atomic of
the frame's PNG) with fsync (the file, then its folder after the rename) and without — same process,
same frames, same folder. Also shown: the PNG encode a frame write includes (save_png = encode + write).

    PYTHONPATH=src python bench/fsync.py [--frames 40] [--width 512] [--rounds 5] [--dir PATH]

Every round writes the frames once each way, in a rotated order; the ratio is the median over rounds
of the two sides' times in the same round (a shared machine's drift cancels out). The frames are the
sample clip's, PNG-encoded as the job stores them (encoding included in both sides: the cost a run sees).
``--dir`` puts the files on the disk you care about (default: a temp folder, often tmpfs or overlay,
where fsync is cheap — measure on the disk jobs live on).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import SAMPLE, print_json, print_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()

    from rotoscope.media import atomic
    from rotoscope.media.decode import iter_frames
    from rotoscope.media.atomic import write_bytes_atomic
    from rotoscope.media.encode import png_bytes
    from rotoscope.media.options import MediaOptions

    images = [f.image for f in iter_frames(SAMPLE, MediaOptions(width=args.width, max_frames=args.frames))]
    start = time.perf_counter()
    frames = [png_bytes(image, "Steps: 20") for image in images]
    encode_ms = (time.perf_counter() - start) / len(frames) * 1000
    parent = args.dir or Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    times: dict[bool, list[float]] = {True: [], False: []}
    ratios = []
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        for r in range(args.rounds):
            order = (True, False) if r % 2 == 0 else (False, True)
            seconds = {}
            for sync in order:
                atomic.FSYNC = sync
                out = Path(folder) / f"{'sync' if sync else 'nosync'}-{r}"
                out.mkdir()
                start = time.perf_counter()
                for i, data in enumerate(frames):
                    write_bytes_atomic(out / f"{i:05d}.png", data)
                seconds[sync] = time.perf_counter() - start
                times[sync].append(seconds[sync])
            ratios.append(seconds[True] / seconds[False])
    atomic.FSYNC = True
    per_frame = {sync: statistics.median(t) / len(frames) * 1000 for sync, t in times.items()}
    ratio = statistics.median(ratios)
    with_encode = (encode_ms + per_frame[True]) / (encode_ms + per_frame[False])
    rows = [["no fsync", per_frame[False], 1.0], ["fsync file + folder", per_frame[True], ratio]]
    print(f"{len(frames)} frames {images[0].shape[1]}x{images[0].shape[0]}, {args.rounds} rounds, in {parent}; "
          f"PNG encode {encode_ms:.1f} ms/frame (with it, fsync makes a frame write {with_encode:.3f}x)")
    print_table(["frame write", "ms per frame", "ratio"], rows)
    print_json({"bench": "fsync", "frames": len(frames), "width": images[0].shape[1], "dir": str(parent),
                "png_encode_ms": round(encode_ms, 3), "ratio_with_encode": round(with_encode, 3),
                "ms_per_frame_nosync": round(per_frame[False], 3), "ms_per_frame_fsync": round(per_frame[True], 3),
                "extra_ms_per_frame": round(per_frame[True] - per_frame[False], 3),
                "ratio": round(statistics.median(ratios), 3)})


if __name__ == "__main__":
    main()
