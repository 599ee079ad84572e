"""SAT's frozen sincos position table (CogVideoX-2B, Basic3DPositionEmbeddingMixin.reinit), computed by
SAT's own numpy functions (copied below from CogVideo sat/dit_video_concat.py), for the tests of the way
back (Diffusers -> SAT), which recomputes the table. Writes sat_sincos.json: per geometry the float32
table (.float() of numpy's float64) and its fp16 and bf16 casts, as hex of the little-endian bits.

    /usr/bin/python3 testdata/positions/make_sincos.py   # numpy only; with torch, the casts are torch's
"""
import json
import os

import numpy as np


def get_3d_sincos_pos_embed(embed_dim, grid_height, grid_width, t_size, cls_token=False,
                            height_interpolation=1.0, width_interpolation=1.0, time_interpolation=1.0):
    assert embed_dim % 4 == 0
    embed_dim_spatial = embed_dim // 4 * 3
    embed_dim_temporal = embed_dim // 4
    grid_h = np.arange(grid_height, dtype=np.float32) / height_interpolation
    grid_w = np.arange(grid_width, dtype=np.float32) / width_interpolation
    grid = np.meshgrid(grid_w, grid_h)  # here w goes first
    grid = np.stack(grid, axis=0)
    grid = grid.reshape([2, 1, grid_height, grid_width])
    pos_embed_spatial = get_2d_sincos_pos_embed_from_grid(embed_dim_spatial, grid)
    grid_t = np.arange(t_size, dtype=np.float32) / time_interpolation
    pos_embed_temporal = get_1d_sincos_pos_embed_from_grid(embed_dim_temporal, grid_t)
    pos_embed_temporal = pos_embed_temporal[:, np.newaxis, :]
    pos_embed_temporal = np.repeat(pos_embed_temporal, grid_height * grid_width, axis=1)
    pos_embed_spatial = pos_embed_spatial[np.newaxis, :, :]
    pos_embed_spatial = np.repeat(pos_embed_spatial, t_size, axis=0)
    return np.concatenate([pos_embed_temporal, pos_embed_spatial], axis=-1)


def get_2d_sincos_pos_embed_from_grid(embed_dim, grid):
    assert embed_dim % 2 == 0
    emb_h = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[0])
    emb_w = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[1])
    return np.concatenate([emb_h, emb_w], axis=1)


def get_1d_sincos_pos_embed_from_grid(embed_dim, pos):
    assert embed_dim % 2 == 0
    omega = np.arange(embed_dim // 2, dtype=np.float64)
    omega /= embed_dim / 2.0
    omega = 1.0 / 10000**omega
    pos = pos.reshape(-1)
    out = np.einsum("m,d->md", pos, omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def bf16_bits(f32):
    """fp32 -> bf16, round to nearest even (torch's cast; no NaN in a sincos table)."""
    bits = f32.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def table(hidden, height, width, frames, text_length, hi, wi, ti):
    """pos_embedding.data[:, -num_patches:].copy_(torch.from_numpy(pos_embed).float()) on zeros."""
    pos = get_3d_sincos_pos_embed(hidden, height, width, frames, height_interpolation=hi,
                                  width_interpolation=wi, time_interpolation=ti)
    f32 = np.zeros((text_length + frames * height * width, hidden), dtype=np.float32)
    f32[text_length:] = pos.reshape(-1, hidden).astype(np.float32)
    return f32


def casts(f32):
    """The table in fp16 and bf16 as the parameter holds it: torch's casts when torch is there."""
    try:
        import torch
        t = torch.from_numpy(f32)
        return (t.to(torch.float16).numpy().astype("<f2").tobytes(),
                t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes())
    except ImportError:
        return f32.astype(np.float16).astype("<f2").tobytes(), bf16_bits(f32).astype("<u2").tobytes()


GEOMETRIES = [
    # the 2B fixture's table: 3 text tokens + 2 frames x 2 x 2 patches, hidden 16 (latent 4x4, 5 frames)
    dict(hidden=16, height=2, width=2, frames=2, text_length=3, height_interpolation=1.875,
         width_interpolation=1.875, time_interpolation=1.0),
    # wider and uneven, other interpolations
    dict(hidden=64, height=3, width=5, frames=4, text_length=7, height_interpolation=1.875,
         width_interpolation=1.5, time_interpolation=1.0),
    # CogVideoX-2B's own geometry (only some rows kept in the file: last text row, first patches, later
    # frames, the last row)
    dict(hidden=1920, height=30, width=45, frames=13, text_length=226, height_interpolation=1.875,
         width_interpolation=1.875, time_interpolation=1.0),
]
MAX_ROWS = 128

out = []
for g in GEOMETRIES:
    f32 = table(g["hidden"], g["height"], g["width"], g["frames"], g["text_length"],
                g["height_interpolation"], g["width_interpolation"], g["time_interpolation"])
    n = len(f32)
    kept = list(range(n)) if n <= MAX_ROWS else [g["text_length"] - 1, g["text_length"], g["text_length"] + 1,
                                                g["text_length"] + 1351, n // 2, n - 1]
    head = f32[kept]
    entry = dict(g)
    entry["rows"] = n
    entry["kept_rows"] = kept
    entry["f32"] = head.astype("<f4").tobytes().hex()
    f16, bf16 = casts(head)
    entry["f16"] = f16.hex()
    entry["bf16"] = bf16.hex()
    out.append(entry)

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sat_sincos.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
