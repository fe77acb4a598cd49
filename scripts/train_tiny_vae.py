"""Train the tiny test VAE so the tiny pipeline's img2img keeps the scene.

Trains the 4-block (÷8) AutoencoderKL of ``rotoscope.models.tiny`` to
reconstruct ~45 frames of ``samples/cup.mp4`` plus synthetic coloured shapes
and gradients (so colours, not only the clip's greys, come back), with Adam
(lr 2e-3), L1 loss, batches of 8 random 64×64 crops, under a fixed seed. Prints
the PSNR on whole frames, sets ``scaling_factor`` = 1 / latent std, and writes
``src/rotoscope/models/assets/tiny_vae/`` (config.json +
diffusion_pytorch_model.safetensors).

    python scripts/train_tiny_vae.py [--steps 1500] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rotoscope.models.tiny import TINY_VAE_DIR, tiny_vae_config  # noqa: E402


def clip_frames(path: Path, count: int = 45, size=(320, 240)) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24", width=size[0], height=size[1]) for f in container.decode(stream)]
    step = max(1, len(frames) // count)
    return frames[::step][:count]


def synthetic_images(rng: np.random.Generator, count: int = 30, size=(320, 240)) -> list[np.ndarray]:
    """Gradients under random coloured rectangles and discs."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for _ in range(count):
        c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        t = (xx / w if rng.random() < 0.5 else yy / h)[..., None]
        img = c0 * (1 - t) + c1 * t
        for _ in range(rng.integers(3, 9)):
            colour = rng.uniform(0, 255, 3)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.uniform(8, 60)
            if rng.random() < 0.5:
                m = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
            else:
                m = (abs(xx - cx) < r) & (abs(yy - cy) < r * rng.uniform(0.3, 1.5))
            img[m] = colour
        out.append(img.clip(0, 255).astype(np.uint8))
    return out


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = F.mse_loss((a.clamp(-1, 1) + 1) / 2, (b.clamp(-1, 1) + 1) / 2).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clip", type=Path, default=ROOT / "samples" / "cup.mp4")
    ap.add_argument("--out", type=Path, default=TINY_VAE_DIR)
    args = ap.parse_args()

    from diffusers import AutoencoderKL

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    frames = clip_frames(args.clip)
    synth = synthetic_images(rng)
    # hold out every 9th clip frame and 5 synthetic images for the PSNR report
    train = [f for i, f in enumerate(frames) if i % 9 != 4] + synth[5:]
    held = [f for i, f in enumerate(frames) if i % 9 == 4] + synth[:5]
    data, held_t = to_tensor(train), to_tensor(held)
    print(f"{len(frames)} clip frames + {len(synth)} synthetic; train {len(train)}, held out {len(held)}")

    vae = AutoencoderKL(**tiny_vae_config())
    opt = torch.optim.Adam(vae.parameters(), lr=args.lr)
    n, _, h, w = data.shape
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, n, (args.batch,))
        ys = torch.randint(0, h - args.crop + 1, (args.batch,))
        xs = torch.randint(0, w - args.crop + 1, (args.batch,))
        batch = torch.stack([data[i, :, y : y + args.crop, x : x + args.crop] for i, y, x in zip(idx, ys, xs)])
        if torch.rand(()) < 0.5:
            batch = batch.flip(-1)
        # sample() (not mode()) so the encoder learns a small variance: img2img samples latents
        recon = vae.decode(vae.encode(batch).latent_dist.sample()).sample
        loss = F.l1_loss(recon, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == 1:
            print(f"step {step:5d}  L1 {loss.item():.4f}  {time.perf_counter() - t0:6.1f}s", flush=True)

    vae.eval()
    with torch.no_grad():
        dist = vae.encode(held_t).latent_dist
        recon = vae.decode(dist.sample()).sample
        clip_n = len(held) - 5
        lat = vae.encode(to_tensor(frames + synth)).latent_dist.mode()
    std = lat.std().item()
    print(f"PSNR held-out clip frames {psnr(recon[:clip_n], held_t[:clip_n]):.2f} dB, "
          f"synthetic {psnr(recon[clip_n:], held_t[clip_n:]):.2f} dB, all {psnr(recon, held_t):.2f} dB")
    print(f"latent std {std:.3f} -> scaling_factor {1 / std:.5f}; posterior std mean {dist.std.mean().item():.4f}")
    vae.register_to_config(scaling_factor=round(1.0 / std, 5))
    args.out.mkdir(parents=True, exist_ok=True)
    vae.save_pretrained(args.out, safe_serialization=True)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
