"""What does the A1111-compatible HTTP API add per img2img call, over calling the Python API directly?

    PYTHONPATH=src python bench/http_overhead.py [--width 256] [--steps 20] [--calls 5] [--rounds 5]

One process: ``rotoscope serve``'s app runs in a thread on a loopback port (http/app.py serve_in_thread),
and the same settings go two ways, each call one image from one init image:

1. python API: ``api.preview(init.png, out.png, seeds=1, …)`` (what an img2img request runs);
2. HTTP img2img: the ``webuiapi`` client's ``img2img(images=[PIL image], …)`` against the server: the client
   base64-encodes the PNG, the server decodes it into a request folder, runs the same ``api.preview``,
   re-encodes the PNG with its infotext, answers JSON, and the client decodes the image.

Both share the process's pipeline cache; one warm-up call per side first, so no side pays the model load.
Calls alternate (python, HTTP, python, HTTP, …; the pair order flips every round) and each pair gives a
ratio HTTP / python; the figure is the median over all pairs, so the drift of a shared machine cancels out.
The answered pixels are checked equal to the Python API's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import SAMPLE, print_json, print_table

PROMPT = "a cup, ink drawing"
LOOK = dict(prompt=PROMPT, seed=3, cfg_scale=7.0)
STRENGTH = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import webuiapi
    from PIL import Image

    from rotoscope import api
    from rotoscope.http.app import serve_in_thread
    from rotoscope.http.config import ServeConfig

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        frame = api.source_frame(SAMPLE, 0, width=args.width)
        init = Image.fromarray(frame)
        init.save(tmp / "init.png")
        w, h = init.size
        look = dict(LOOK, steps=args.steps)

        def python_call(i: int) -> Path:
            result = api.preview(tmp / "init.png", tmp / f"py{i}.png", seeds=1, model="tiny", strength=STRENGTH,
                                 process_width=w, process_height=h, sampler="Euler a", overwrite=True, **look)
            return result.tiles[0].path

        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = serve_in_thread(ServeConfig(port=port, jobs_dir=tmp / "jobs"))
        client = webuiapi.WebUIApi(port=port, sampler="Euler a", steps=args.steps)

        def http_call(i: int):
            return client.img2img(images=[init], denoising_strength=STRENGTH, width=w, height=h, **look)

        try:
            want = np.asarray(Image.open(python_call(0)).convert("RGB"))  # warm-up, and the pixels to match
            got = np.asarray(http_call(0).image.convert("RGB"))
            assert np.array_equal(want, got), "the HTTP answer differs from the Python API's"
            sides = {"python api.preview": python_call, "HTTP img2img (webuiapi)": http_call}
            names = list(sides)
            per_call: dict[str, list[float]] = {n: [] for n in names}
            pairs: list[float] = []
            added: list[float] = []
            for r in range(args.rounds):
                spent = {n: [] for n in names}
                for i in range(args.calls):
                    for name in names[r % 2:] + names[: r % 2]:
                        start = time.perf_counter()
                        sides[name](i)
                        spent[name].append(time.perf_counter() - start)
                    pairs.append(spent[names[1]][-1] / spent[names[0]][-1])
                    added.append(spent[names[1]][-1] - spent[names[0]][-1])
                for name in names:
                    per_call[name].append(statistics.median(spent[name]))
        finally:
            server.should_exit = True

    py, web = per_call[names[0]], per_call[names[1]]
    ratio = statistics.median(pairs)
    added_ms = statistics.median(added) * 1000
    print(f"img2img of one {w}x{h} frame of {SAMPLE.name}, tiny model, Euler a, {args.steps} steps, strength "
          f"{STRENGTH}; {args.calls} calls per side per round, {args.rounds} rounds, side order rotated\n")
    print_table(["side", *[f"round {r + 1} median s/call" for r in range(args.rounds)], "median s/call"],
                [[n, *per_call[n], statistics.median(per_call[n])] for n in names])
    print(f"\nHTTP / python per call: {ratio:.3f}x (median of {len(pairs)} paired calls); added {added_ms:.1f} ms per call; "
          f"pixels identical: True\n")
    print_json({"bench": "http_overhead", "width": w, "height": h, "steps": args.steps, "calls": args.calls,
                "rounds": args.rounds, "python_s_per_call": statistics.median(py),
                "http_s_per_call": statistics.median(web), "ratio": round(ratio, 4),
                "added_ms_per_call": round(added_ms, 2), "identical": True})


if __name__ == "__main__":
    main()
