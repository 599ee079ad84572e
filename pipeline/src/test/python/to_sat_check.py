"""Real-torch check of `to-sat` (Debian's python3-torch 1.13: run with /usr/bin/python3).

  to_sat_check.py SAT_RUN DIFFUSERS_DIR [SAT_RUN DIFFUSERS_DIR ...]

For each pair: loads SAT_RUN/<latest>/mp_rank_00_model_states.pt with torch.load(weights_only=True) and
compares every tensor of its `module` dict with the Diffusers folder it was made from, read by the small
safetensors reader below. The mapping is this script's own, from the published forward rules (DESIGN.md
section 4), not the converter's: each SAT tensor is taken apart as the forward conversion would take it
(query_key_value into to_q/to_k/to_v, the adaLN modulation into norm1/norm2.linear, lora2's original and
matrix_A/B into the weights and the adapter file) and each part must equal its Diffusers tensor byte for
byte. CogVideoX-2B's sincos table is compared with SAT's formula (numpy, float64 then float32 then the
parameter's dtype) within 1 ulp. Every Diffusers tensor must be used. T5's embed_tokens must share
shared.weight's storage. Prints one line per run and exits 1 on any difference.

Nothing here runs in mvn verify (ToSatRoundTripTest is the build's check).
"""
import json
import os
import struct
import sys

import numpy as np
import torch

TRANSFORMER_RENAMES = [
    ("transformer.final_layernorm", "norm_final"), ("transformer", "transformer_blocks"), ("attention", "attn1"),
    ("mlp", "ff.net"), ("dense_h_to_4h", "0.proj"), ("dense_4h_to_h", "2"), (".layers", ""), ("dense", "to_out.0"),
    ("input_layernorm", "norm1.norm"), ("post_attn1_layernorm", "norm2.norm"),
    ("time_embed.0", "time_embedding.linear_1"), ("time_embed.2", "time_embedding.linear_2"),
    ("ofs_embed.0", "ofs_embedding.linear_1"), ("ofs_embed.2", "ofs_embedding.linear_2"),
    ("mixins.patch_embed", "patch_embed"), ("mixins.final_layer.norm_final", "norm_out.norm"),
    ("mixins.final_layer.linear", "proj_out"), ("mixins.final_layer.adaLN_modulation.1", "norm_out.linear"),
    ("mixins.pos_embed.pos_embedding", "patch_embed.pos_embedding")]
VAE_RENAMES = [
    ("block.", "resnets."), ("down.", "down_blocks."), ("downsample", "downsamplers.0"), ("upsample", "upsamplers.0"),
    ("nin_shortcut", "conv_shortcut"), ("encoder.mid.block_1", "encoder.mid_block.resnets.0"),
    ("encoder.mid.block_2", "encoder.mid_block.resnets.1"), ("decoder.mid.block_1", "decoder.mid_block.resnets.0"),
    ("decoder.mid.block_2", "decoder.mid_block.resnets.1")]
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
TORCH_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
               torch.bool: "BOOL"}
FROM_NAMES = {v: k for k, v in TORCH_NAMES.items()}


def read_safetensors(path):
    """name -> (dtype, shape, bytes)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = (e["dtype"], list(e["shape"]), data[a:b])
    return out


def read_component(folder, stem):
    if not os.path.isdir(folder):
        return {}
    index = os.path.join(folder, stem + ".safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else [stem + ".safetensors"]
    out = {}
    for f in files:
        out.update(read_safetensors(os.path.join(folder, f)))
    return out


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def sat_sincos(hidden, h, w, frames, text, hi, wi, ti):
    def one(dim, pos):
        omega = np.arange(dim // 2, dtype=np.float64)
        omega /= dim / 2.0
        omega = 1.0 / 10000 ** omega
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32) / wi, np.arange(h, dtype=np.float32) / hi), axis=0)
    spatial = np.concatenate([one(hidden // 4 * 3 // 2, grid[0]), one(hidden // 4 * 3 // 2, grid[1])], axis=1)
    temporal = one(hidden // 4, np.arange(frames, dtype=np.float32) / ti)
    table = np.concatenate([np.repeat(temporal[:, None, :], h * w, axis=1), np.repeat(spatial[None], frames, axis=0)], -1)
    out = torch.zeros(1, text + frames * h * w, hidden)
    out[:, text:] = torch.from_numpy(table).float().reshape(-1, hidden)
    return out


def ulps(a, b):
    x = a.view(torch.int16).to(torch.int64) if a.element_size() == 2 else a.view(torch.int32).to(torch.int64)
    y = b.view(torch.int16).to(torch.int64) if b.element_size() == 2 else b.view(torch.int32).to(torch.int64)
    order = lambda v, bits: torch.where(v >= 0, v, -(v + (1 << (bits - 1))))
    bits = 8 * a.element_size()
    return int((order(x, bits) - order(y, bits)).abs().max())


def forward_transformer_key(k):
    for a, b in TRANSFORMER_RENAMES:
        k = k.replace(a, b)
    return k


def check(run, diffusers):
    iteration = open(os.path.join(run, "latest")).read().strip()
    path = os.path.join(run, iteration, "mp_rank_00_model_states.pt")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    sd = ckpt["module"]
    comps = {"transformer": read_component(os.path.join(diffusers, "transformer"), "diffusion_pytorch_model"),
             "vae": read_component(os.path.join(diffusers, "vae"), "diffusion_pytorch_model"),
             "text_encoder": read_component(os.path.join(diffusers, "text_encoder"), "model")}
    adapter_file = os.path.join(diffusers, "transformer", "pytorch_lora_weights.safetensors")
    comps["adapter"] = read_safetensors(adapter_file) if os.path.exists(adapter_file) else {}
    config = json.load(open(os.path.join(diffusers, "transformer", "config.json")))
    used = {c: set() for c in comps}
    problems = []
    compared = [0]

    def expect(sat_key, part, comp, dkey):
        if dkey not in comps[comp]:
            problems.append("%s: no %s/%s" % (sat_key, comp, dkey))
            return
        dtype, shape, data = comps[comp][dkey]
        used[comp].add(dkey)
        if TORCH_NAMES[part.dtype] != dtype and dtype in ("F32", "F16", "BF16"):  # --dtype: torch's own cast
            source = torch.frombuffer(bytearray(data), dtype=FROM_NAMES[dtype]).reshape(shape)
            dtype, data = TORCH_NAMES[part.dtype], tensor_bytes(source.to(part.dtype))
        if TORCH_NAMES[part.dtype] != dtype or list(part.shape) != shape or tensor_bytes(part) != data:
            problems.append("%s differs from %s/%s" % (sat_key, comp, dkey))
        compared[0] += 1

    recomputed = []
    for key, t in sd.items():
        if key.startswith("model.diffusion_model."):
            k = key[len("model.diffusion_model."):]
            if ".matrix_A." in k or ".matrix_B." in k:
                module, matrix, i = k.rsplit(".", 2)
                parts = ["to_q", "to_k", "to_v"] if module.endswith("query_key_value") else ["to_out.0"]
                target = forward_transformer_key(module).replace("query_key_value", parts[int(i)])
                lora = "lora_A" if matrix == "matrix_A" else "lora_B"
                expect(key, t, "adapter", "transformer.%s.%s.weight" % (target, lora))
                continue
            k = k.replace(".original.", ".")
            d = forward_transformer_key(k)
            if "query_key_value" in d:
                for part, name in zip(t.chunk(3, 0), ["to_q", "to_k", "to_v"]):
                    expect(key, part, "transformer", d.replace("query_key_value", name))
            elif "query_layernorm_list" in d or "key_layernorm_list" in d:
                p = d.split(".")
                expect(key, t, "transformer", "transformer_blocks.%s.attn1.%s.%s" % (
                    p[-2], "norm_q" if "query" in d else "norm_k", p[-1]))
            elif "adaln_layer.adaLN_modulations" in d:
                p = d.split(".")
                c = t.chunk(12, 0)
                expect(key, torch.cat([c[i] for i in (0, 1, 2, 6, 7, 8)]), "transformer",
                       "transformer_blocks.%s.norm1.linear.%s" % (p[-3], p[-1]))
                expect(key, torch.cat([c[i] for i in (3, 4, 5, 9, 10, 11)]), "transformer",
                       "transformer_blocks.%s.norm2.linear.%s" % (p[-3], p[-1]))
            elif d == "patch_embed.pos_embedding" and not config["use_learned_positional_embeddings"]:
                p = config["patch_size"]
                frames = (config["sample_frames"] - 1) // config["temporal_compression_ratio"] + 1
                s = config["spatial_interpolation_scale"]
                table = sat_sincos(t.shape[-1], config["sample_height"] // p, config["sample_width"] // p, frames,
                                   config["max_text_seq_length"], s, s, config["temporal_interpolation_scale"])
                distance = ulps(table.to(t.dtype), t)
                if distance > 1:
                    problems.append("%s: %d ulps from SAT's table" % (key, distance))
                recomputed.append("%s %s within %d ulp" % (key, list(t.shape), distance))
            else:
                expect(key, t, "transformer", d)
        elif key.startswith("first_stage_model."):
            k = key[len("first_stage_model."):]
            for a, b in VAE_RENAMES:
                k = k.replace(a, b)
            if k.startswith("decoder.up."):
                n = len({x.split(".")[3] for x in sd if x.startswith("first_stage_model.decoder.up.")})
                rest = k.split(".", 3)
                k = "decoder.up_blocks.%d.%s" % (n - 1 - int(rest[2]), rest[3])
            expect(key, t, "vae", k)
        elif key.startswith("conditioner.embedders.0.transformer."):
            k = key[len("conditioner.embedders.0.transformer."):]
            if k == "encoder.embed_tokens.weight":
                shared = sd["conditioner.embedders.0.transformer.shared.weight"]
                if t.storage().data_ptr() != shared.storage().data_ptr():
                    problems.append("%s does not share shared.weight's storage" % key)
                continue
            expect(key, t, "text_encoder", k)
        else:
            problems.append("%s: under no SAT prefix" % key)
    for c, tensors in comps.items():
        missing = sorted(set(tensors) - used[c])
        if missing:
            problems.append("%s: %d Diffusers tensors not in the SAT checkpoint, e.g. %s" % (c, len(missing), missing[0]))
    print("%s: torch %s weights_only=True: %d tensors, %d parts equal to %s%s%s" % (
        path, torch.__version__, len(sd), compared[0] - sum(1 for p in problems if "differs" in p), diffusers,
        "; recomputed " + "; ".join(recomputed) if recomputed else "",
        "" if not problems else "\n  PROBLEMS:\n  " + "\n  ".join(problems)))
    return not problems


def main(args):
    if len(args) < 2 or len(args) % 2:
        print(__doc__)
        return 2
    ok = all([check(args[i], args[i + 1]) for i in range(0, len(args), 2)])
    print("all equal" if ok else "DIFFERENCES FOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
