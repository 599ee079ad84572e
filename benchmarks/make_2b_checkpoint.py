"""Writes a CogVideoX-2B-sized SAT/DeepSpeed checkpoint for indexing benchmarks (not for the repo).

Same key names as testdata/sat/cogvideox-2b-sft (transformer part), CogVideoX-2B dimensions:
30 layers, hidden 1920, 30 heads, time embedding 512, T5 width 4096, fp16, about 3.4 GB,
wrapped as DeepSpeed saves it ({"module": state_dict, ...}).

Usage: /usr/bin/python3 benchmarks/make_2b_checkpoint.py [OUT]   (default /work/bench-data/cogvideox-2b-like.pt)
"""
import argparse
import collections
import sys

import torch

LAYERS, HIDDEN, HEADS, TIME_DIM, TEXT_DIM, PATCH, CHANNELS = 30, 1920, 30, 512, 4096, 2, 16
POSITIONS = 13 * 30 * 45 + 226  # latent frames x patches per frame + text tokens
PREFIX = "model.diffusion_model."


def tensor(*shape):
    # uniform_ on fp16 keeps peak memory at the tensor's own size
    return torch.empty(shape, dtype=torch.float16).uniform_(-0.02, 0.02)


def state_dict():
    sd = collections.OrderedDict()
    for i in range(LAYERS):
        layer = f"{PREFIX}transformer.layers.{i}."
        sd[layer + "input_layernorm.weight"] = tensor(HIDDEN)
        sd[layer + "input_layernorm.bias"] = tensor(HIDDEN)
        sd[layer + "attention.query_key_value.weight"] = tensor(3 * HIDDEN, HIDDEN)
        sd[layer + "attention.query_key_value.bias"] = tensor(3 * HIDDEN)
        sd[layer + "attention.dense.weight"] = tensor(HIDDEN, HIDDEN)
        sd[layer + "attention.dense.bias"] = tensor(HIDDEN)
        sd[layer + "post_attention_layernorm.weight"] = tensor(HIDDEN)
        sd[layer + "post_attention_layernorm.bias"] = tensor(HIDDEN)
        sd[layer + "mlp.dense_h_to_4h.weight"] = tensor(4 * HIDDEN, HIDDEN)
        sd[layer + "mlp.dense_h_to_4h.bias"] = tensor(4 * HIDDEN)
        sd[layer + "mlp.dense_4h_to_h.weight"] = tensor(HIDDEN, 4 * HIDDEN)
        sd[layer + "mlp.dense_4h_to_h.bias"] = tensor(HIDDEN)
    sd[PREFIX + "transformer.final_layernorm.weight"] = tensor(HIDDEN)
    sd[PREFIX + "transformer.final_layernorm.bias"] = tensor(HIDDEN)
    sd[PREFIX + "mixins.pos_embed.pos_embedding"] = tensor(1, POSITIONS, HIDDEN)
    sd[PREFIX + "mixins.patch_embed.proj.weight"] = tensor(HIDDEN, CHANNELS, PATCH, PATCH)
    sd[PREFIX + "mixins.patch_embed.proj.bias"] = tensor(HIDDEN)
    sd[PREFIX + "mixins.patch_embed.text_proj.weight"] = tensor(HIDDEN, TEXT_DIM)
    sd[PREFIX + "mixins.patch_embed.text_proj.bias"] = tensor(HIDDEN)
    for i in range(LAYERS):
        sd[PREFIX + f"mixins.adaln_layer.adaLN_modulations.{i}.1.weight"] = tensor(12 * HIDDEN, TIME_DIM)
        sd[PREFIX + f"mixins.adaln_layer.adaLN_modulations.{i}.1.bias"] = tensor(12 * HIDDEN)
    head_dim = HIDDEN // HEADS
    for kind in ("query", "key"):
        for i in range(LAYERS):
            sd[PREFIX + f"mixins.adaln_layer.{kind}_layernorm_list.{i}.weight"] = tensor(head_dim)
            sd[PREFIX + f"mixins.adaln_layer.{kind}_layernorm_list.{i}.bias"] = tensor(head_dim)
    sd[PREFIX + "mixins.final_layer.norm_final.weight"] = tensor(HIDDEN)
    sd[PREFIX + "mixins.final_layer.norm_final.bias"] = tensor(HIDDEN)
    sd[PREFIX + "mixins.final_layer.linear.weight"] = tensor(PATCH * PATCH * CHANNELS, HIDDEN)
    sd[PREFIX + "mixins.final_layer.linear.bias"] = tensor(PATCH * PATCH * CHANNELS)
    sd[PREFIX + "mixins.final_layer.adaLN_modulation.1.weight"] = tensor(2 * HIDDEN, TIME_DIM)
    sd[PREFIX + "mixins.final_layer.adaLN_modulation.1.bias"] = tensor(2 * HIDDEN)
    sd[PREFIX + "time_embed.0.weight"] = tensor(TIME_DIM, HIDDEN)
    sd[PREFIX + "time_embed.0.bias"] = tensor(TIME_DIM)
    sd[PREFIX + "time_embed.2.weight"] = tensor(TIME_DIM, TIME_DIM)
    sd[PREFIX + "time_embed.2.bias"] = tensor(TIME_DIM)
    return sd


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/work/bench-data/cogvideox-2b-like.pt"
    torch.manual_seed(0)
    sd = state_dict()
    checkpoint = {
        "module": sd,
        "param_shapes": [collections.OrderedDict((k, v.shape) for k, v in sd.items())],
        "iteration": 1000,
        "global_steps": 1000,
        "args": argparse.Namespace(mode="finetune", lr=1e-3),
    }
    torch.save(checkpoint, out)
    total = sum(t.numel() * t.element_size() for t in sd.values())
    print(f"{out}: {len(sd)} tensors, {total} tensor bytes")


if __name__ == "__main__":
    main()
