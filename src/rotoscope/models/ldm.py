"""diffusers → original (CompVis / LDM) key layout, for SD 1.x-shaped models.

Writes the single-file checkpoints that the loader's ``from_single_file``
path reads (tests and the model zoo, models/zoo.py). Follows diffusers'
``scripts/convert_diffusers_to_original_stable_diffusion.py``, generalised
to any number of blocks and layers per block, plus ControlNet's original
``control_model.`` layout and AnimateDiff's motion-module layout.
"""

from __future__ import annotations

import torch


def unet_to_ldm(state: dict, config, prefix: str = "model.diffusion_model.") -> dict:
    n = len(config["block_out_channels"])
    lpb = config["layers_per_block"]
    step = lpb + 1
    prefix_map = [
        ("time_embedding.linear_1.", "time_embed.0."),
        ("time_embedding.linear_2.", "time_embed.2."),
        ("conv_in.", "input_blocks.0.0."),
        ("conv_norm_out.", "out.0."),
        ("conv_out.", "out.2."),
        ("mid_block.resnets.0.", "middle_block.0."),
        ("mid_block.attentions.0.", "middle_block.1."),
        ("mid_block.resnets.1.", "middle_block.2."),
        ("add_embedding.linear_1.", "label_emb.0.0."),
        ("add_embedding.linear_2.", "label_emb.0.2."),
    ]
    for i in range(n):
        for j in range(lpb):
            prefix_map.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{step * i + j + 1}.0."))
            prefix_map.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{step * i + j + 1}.1."))
        if i < n - 1:
            prefix_map.append((f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{step * (i + 1)}.0.op."))
        has_attn = any(k.startswith(f"up_blocks.{i}.attentions.") for k in state)
        for j in range(lpb + 1):
            prefix_map.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{step * i + j}.0."))
            prefix_map.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{step * i + j}.1."))
        if i < n - 1:
            prefix_map.append((f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{step * i + lpb}.{2 if has_attn else 1}."))
    resnet_map = [
        ("norm1.", "in_layers.0."),
        ("conv1.", "in_layers.2."),
        ("time_emb_proj.", "emb_layers.1."),
        ("norm2.", "out_layers.0."),
        ("conv2.", "out_layers.3."),
        ("conv_shortcut.", "skip_connection."),
    ]
    out = {}
    for key, value in state.items():
        new = key
        for hf, sd in prefix_map:
            if new.startswith(hf):
                new = sd + new[len(hf):]
                if ".resnets." in hf or hf.startswith("mid_block.resnets"):
                    for rhf, rsd in resnet_map:
                        new = new.replace(sd + rhf, sd + rsd)
                break
        else:
            raise KeyError(f"unmapped UNet key {key}")
        out[prefix + new] = value
    return out


def vae_to_ldm(state: dict, config, prefix: str = "first_stage_model.") -> dict:
    n = len(config["block_out_channels"])
    lpb = config["layers_per_block"]
    prefix_map = [
        ("encoder.mid_block.attentions.0.", "encoder.mid.attn_1."),
        ("decoder.mid_block.attentions.0.", "decoder.mid.attn_1."),
    ]
    for part in ("encoder", "decoder"):
        for i in range(2):
            prefix_map.append((f"{part}.mid_block.resnets.{i}.", f"{part}.mid.block_{i + 1}."))
    for i in range(n):
        for j in range(lpb):
            prefix_map.append((f"encoder.down_blocks.{i}.resnets.{j}.", f"encoder.down.{i}.block.{j}."))
        if i < n - 1:
            prefix_map.append((f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."))
        for j in range(lpb + 1):
            prefix_map.append((f"decoder.up_blocks.{i}.resnets.{j}.", f"decoder.up.{n - 1 - i}.block.{j}."))
        if i < n - 1:
            prefix_map.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{n - 1 - i}.upsample."))
    conv_norm_out = [("conv_norm_out.", "norm_out.")]
    attn_map = [("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."), ("to_v.", "v."), ("to_out.0.", "proj_out.")]
    out = {}
    for key, value in state.items():
        new = key
        for hf, sd in prefix_map:
            if new.startswith(hf):
                rest = new[len(hf):]
                if "attn_1" in sd:
                    for ahf, asd in attn_map:
                        if rest.startswith(ahf):
                            rest = asd + rest[len(ahf):]
                            break
                    if rest.endswith("weight") and not rest.startswith("norm.") and value.ndim == 2:
                        value = value[:, :, None, None]
                rest = rest.replace("conv_shortcut.", "nin_shortcut.")
                new = sd + rest
                break
        for hf, sd in conv_norm_out:
            new = new.replace(hf, sd)
        out[prefix + new] = value
    return out


def pipeline_to_ldm(pipe) -> dict[str, torch.Tensor]:
    """One original-layout state dict of a diffusers SD 1.x-shaped pipeline."""
    state = {}
    state.update(unet_to_ldm(pipe.unet.state_dict(), pipe.unet.config))
    state.update(vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config))
    for key, value in pipe.text_encoder.state_dict().items():
        # transformers 5 drops the "text_model." level that original checkpoints have
        key = key if key.startswith("text_model.") else "text_model." + key
        state["cond_stage_model.transformer." + key] = value
    return {k: v.detach().contiguous().clone() for k, v in state.items()}


def controlnet_to_ldm(state: dict, config, prefix: str = "control_model.") -> dict:
    """A diffusers ``ControlNetModel`` state dict in the original ``control_model.`` layout (ControlNet 1.0/1.1 ``.pth``)."""
    out, unet_part = {}, {}
    hint = {"controlnet_cond_embedding.conv_in.": "input_hint_block.0.", "controlnet_cond_embedding.conv_out.": "input_hint_block.14."}
    for key, value in state.items():
        if key.startswith("controlnet_down_blocks."):
            i, rest = key[len("controlnet_down_blocks."):].split(".", 1)
            out[f"zero_convs.{i}.0.{rest}"] = value
        elif key.startswith("controlnet_mid_block."):
            out["middle_block_out.0." + key[len("controlnet_mid_block."):]] = value
        elif key.startswith("controlnet_cond_embedding.blocks."):
            j, rest = key[len("controlnet_cond_embedding.blocks."):].split(".", 1)
            out[f"input_hint_block.{2 * (int(j) + 1)}.{rest}"] = value
        elif any(key.startswith(h) for h in hint):
            h = next(h for h in hint if key.startswith(h))
            out[hint[h] + key[len(h):]] = value
        else:
            unet_part[key] = value
    out.update(unet_to_ldm(unet_part, config, prefix=""))
    return {prefix + k: v for k, v in out.items()}


def motion_to_ldm(state: dict, max_seq_length: int = 32) -> dict:
    """A diffusers ``MotionAdapter`` state dict in AnimateDiff's original layout (``mm_sd_v15_v2.ckpt``), with the
    sinusoidal ``pos_encoder.pe`` buffers the original files carry."""
    import math
    import re

    out = {}
    for key, value in state.items():
        new = re.sub(r"(motion_modules\.\d+\.)", r"\1temporal_transformer.", key, count=1)
        new = (new.replace(".attn1.", ".attention_blocks.0.").replace(".attn2.", ".attention_blocks.1.")
               .replace(".norm1.", ".norms.0.").replace(".norm2.", ".norms.1.").replace(".norm3.", ".ff_norm."))
        if ".pos_embed." in new:
            continue
        out[new] = value
        m = re.match(r"(.*\.attention_blocks\.\d+\.)to_q\.weight$", new)
        if m:
            dim = value.shape[-1]
            position = torch.arange(max_seq_length).unsqueeze(1)
            div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
            pe = torch.zeros(1, max_seq_length, dim)
            pe[0, :, 0::2] = torch.sin(position * div)
            pe[0, :, 1::2] = torch.cos(position * div)
            out[m.group(1) + "pos_encoder.pe"] = pe.to(value.dtype)
    return out
