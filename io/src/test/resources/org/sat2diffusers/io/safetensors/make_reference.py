"""Makes the reference files SafetensorsWriterTest and ShardIndexTest compare with, byte for byte.

reference.safetensors: written by the safetensors library itself (0.8.0, with torch) from the
tensors below; tensor k of TENSORS (in this list's order) holds the bytes (37*k + 11*i + 5) & 0xff,
i = 0, 1, ... (BOOL tensors: i & 1), the same pattern the Java test generates.
shard_index.json: an index as Diffusers writes it, json.dumps(index, indent=2, sort_keys=True) + "\n".

Run from this folder: PYTHONPATH=<dir with safetensors> /usr/bin/python3 make_reference.py
"""
import json

import torch
from safetensors.torch import save_file

TENSORS = [  # name, dtype, shape
    ("transformer.weight", torch.float32, [3, 4]),
    ("b.f64", torch.float64, [2]),
    ("c.f16", torch.float16, [5]),
    ("d.bf16", torch.bfloat16, [2, 3]),
    ("e.i64", torch.int64, [3]),
    ("f.i32.scalar", torch.int32, []),
    ("g.i16", torch.int16, [7]),
    ("h.i8", torch.int8, [3]),
    ("i.u8", torch.uint8, [5]),
    ("j.bool", torch.bool, [4]),
    ("k.empty", torch.float32, [0, 4]),
    ("l.scalar", torch.bfloat16, []),
    ("a.empty", torch.float16, [0]),
    ("z.unicode.\u00fc", torch.float32, [1]),
    ("A.upper", torch.float32, [2, 1, 1]),
]


def pattern(k, dtype, count):
    if dtype == torch.bool:
        return bytes(i & 1 for i in range(count))
    return bytes((37 * k + 11 * i + 5) & 0xFF for i in range(count))


tensors = {}
for k, (name, dtype, shape) in enumerate(TENSORS):
    numel = 1
    for d in shape:
        numel *= d
    nbytes = numel * torch.empty((), dtype=dtype).element_size()
    if nbytes == 0:
        tensors[name] = torch.empty(shape, dtype=dtype)
    else:
        raw = torch.frombuffer(bytearray(pattern(k, dtype, nbytes)), dtype=torch.uint8)
        tensors[name] = raw.view(dtype).reshape(shape).clone()
save_file(tensors, "reference.safetensors", metadata={"format": "pt"})

index = {
    "metadata": {"total_size": 9876543210},
    "weight_map": {
        "transformer_blocks.1.attn1.to_q.weight": "diffusion_pytorch_model-00002-of-00002.safetensors",
        "patch_embed.proj.weight": "diffusion_pytorch_model-00001-of-00002.safetensors",
        "transformer_blocks.0.attn1.to_q.weight": "diffusion_pytorch_model-00001-of-00002.safetensors",
        "norm_final.bias": "diffusion_pytorch_model-00002-of-00002.safetensors",
        "time_embedding.linear_1.weight": "diffusion_pytorch_model-00001-of-00002.safetensors",
    },
}
with open("shard_index.json", "w", encoding="utf-8") as f:
    f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
