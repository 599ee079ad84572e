#!/usr/bin/python3
"""Writes LoRA merge cases with torch's own result, computed the DESIGN.md way.

usage: /usr/bin/python3 make_lora_merge_cases.py OUT.json

Per case: W [p * outPerPart, in], A_i [r, in], B_i [outPerPart, r] in bf16 or fp16 (little-endian
bytes, base64), the fp32 scale, and expected = round_to_dtype(W.float() + cat_i(B_i.float() @
A_i.float()) * scale): inputs widened exactly, product accumulated in fp32, scaled, added, rounded once.
"""
import base64
import json
import sys

import torch


def b64(t):
    return base64.b64encode(t.contiguous().view(torch.uint8).numpy().tobytes()).decode()


def case(name, dtype, parts, rank, in_features, out_per_part, alpha, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(parts * out_per_part, in_features, generator=g).to(dtype)
    a = [(torch.randn(rank, in_features, generator=g) * 0.5).to(dtype) for _ in range(parts)]
    b = [(torch.randn(out_per_part, rank, generator=g) * 0.5).to(dtype) for _ in range(parts)]
    scale = torch.tensor(alpha / rank, dtype=torch.float32)
    delta = torch.cat([bi.float() @ ai.float() for ai, bi in zip(a, b)], dim=0)
    expected = (w.float() + delta * scale).to(dtype)
    return {
        "name": name,
        "dtype": {torch.bfloat16: "BF16", torch.float16: "F16"}[dtype],
        "parts": parts,
        "rank": rank,
        "in": in_features,
        "outPerPart": out_per_part,
        "alpha": alpha,
        "scale": scale.item(),
        "w": b64(w),
        "a": [b64(t) for t in a],
        "b": [b64(t) for t in b],
        "expected": b64(expected),
    }


def main(out):
    cases = [
        case("bf16 qkv, 3 parts, r 8, alpha 1", torch.bfloat16, 3, 8, 40, 24, 1.0, 1),
        case("bf16 dense, 1 part, r 16, alpha 16", torch.bfloat16, 1, 16, 64, 48, 16.0, 2),
        case("fp16 qkv, 3 parts, r 4, alpha 3", torch.float16, 3, 4, 36, 20, 3.0, 3),
        case("fp16 dense, 1 part, r 32, alpha 1", torch.float16, 1, 32, 72, 40, 1.0, 4),
    ]
    with open(out, "w") as f:
        json.dump({"cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
