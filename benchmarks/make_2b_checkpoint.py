"""Writes a CogVideoX-2B-sized SAT/DeepSpeed checkpoint for indexing benchmarks (not for the repo).

Same key names as testdata/sat/cogvideox-2b-sft (transformer part), CogVideoX-2B dimensions:
30 layers, hidden 1920, 30 heads, time embedding 512, T5 width 4096, fp16, about 3.4 GB,
wrapped as DeepSpeed saves it ({"module": state_dict, ...}).

With --lora-rank R the attention's query_key_value and dense are SAT lora2 modules (as
testdata/sat/cogvideox-5b-lora): `original.weight`/`original.bias` plus `matrix_A.<i>` [R, in] and
`matrix_B.<i>` [out/p, R], p = 3 for query_key_value and 1 for dense.

With --size 5b: CogVideoX-5B dimensions instead (42 layers, hidden 3072, 48 heads, bf16, rotary: no
position table, so it converts with --model cogvideox-5b), about 11 GB; peak memory is the checkpoint's size.

Usage: /usr/bin/python3 benchmarks/make_2b_checkpoint.py [--size 2b|5b] [--lora-rank R] [OUT]
       (default OUT /work/bench-data/cogvideox-2b-like.pt)
"""
import argparse
import collections

import torch

LAYERS, HIDDEN, HEADS, TIME_DIM, TEXT_DIM, PATCH, CHANNELS = 30, 1920, 30, 512, 4096, 2, 16
POSITIONS = 13 * 30 * 45 + 226  # latent frames x patches per frame + text tokens
PREFIX = "model.diffusion_model."
DTYPE = torch.float16
ROTARY = False  # 5B: rotary position embedding, so no pos_embedding table


def use_5b():
    global LAYERS, HIDDEN, HEADS, DTYPE, ROTARY
    LAYERS, HIDDEN, HEADS, DTYPE, ROTARY = 42, 3072, 48, torch.bfloat16, True


def tensor(*shape):
    # uniform_ in place keeps peak memory at the tensor's own size
    return torch.empty(shape, dtype=DTYPE).uniform_(-0.02, 0.02)


def linear(sd, module, out_features, in_features, lora_rank, parts):
    """A Linear's weight and bias, or with lora_rank a SAT lora2 module of `parts` A/B pairs."""
    if not lora_rank:
        sd[module + ".weight"] = tensor(out_features, in_features)
        sd[module + ".bias"] = tensor(out_features)
        return
    sd[module + ".original.weight"] = tensor(out_features, in_features)
    sd[module + ".original.bias"] = tensor(out_features)
    for i in range(parts):
        sd[module + f".matrix_A.{i}"] = tensor(lora_rank, in_features)
    for i in range(parts):
        sd[module + f".matrix_B.{i}"] = tensor(out_features // parts, lora_rank)


def state_dict(lora_rank=0):
    sd = collections.OrderedDict()
    for i in range(LAYERS):
        layer = f"{PREFIX}transformer.layers.{i}."
        sd[layer + "input_layernorm.weight"] = tensor(HIDDEN)
        sd[layer + "input_layernorm.bias"] = tensor(HIDDEN)
        linear(sd, layer + "attention.query_key_value", 3 * HIDDEN, HIDDEN, lora_rank, 3)
        linear(sd, layer + "attention.dense", HIDDEN, HIDDEN, lora_rank, 1)
        sd[layer + "post_attention_layernorm.weight"] = tensor(HIDDEN)
        sd[layer + "post_attention_layernorm.bias"] = tensor(HIDDEN)
        sd[layer + "mlp.dense_h_to_4h.weight"] = tensor(4 * HIDDEN, HIDDEN)
        sd[layer + "mlp.dense_h_to_4h.bias"] = tensor(4 * HIDDEN)
        sd[layer + "mlp.dense_4h_to_h.weight"] = tensor(HIDDEN, 4 * HIDDEN)
        sd[layer + "mlp.dense_4h_to_h.bias"] = tensor(HIDDEN)
    sd[PREFIX + "transformer.final_layernorm.weight"] = tensor(HIDDEN)
    sd[PREFIX + "transformer.final_layernorm.bias"] = tensor(HIDDEN)
    if not ROTARY:
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="/work/bench-data/cogvideox-2b-like.pt")
    parser.add_argument("--size", choices=("2b", "5b"), default="2b", help="CogVideoX-2B (default) or -5B dimensions")
    parser.add_argument("--lora-rank", type=int, default=0, help="SAT lora2 rank of the attention (0: no LoRA)")
    cli = parser.parse_args()
    out = cli.out
    if cli.size == "5b":
        use_5b()
    torch.manual_seed(0)
    sd = state_dict(cli.lora_rank)
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
