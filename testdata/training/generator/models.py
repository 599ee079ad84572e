"""Parameter lists of the tiny CogVideoX-2B transformer in Diffusers names, in the order
CogVideoXTransformer3DModel.named_parameters() yields them (diffusers models/transformers/
cogvideox_transformer_3d.py: patch_embed, time_embedding, transformer_blocks.N (norm1, attn1 with
norm_q/norm_k before to_q/to_k/to_v/to_out.0, norm2, ff), norm_final, norm_out, proj_out).

The dimensions are those of testdata/sat/cogvideox-2b-sft (config:
testdata/expected/cogvideox-2b-sft/transformer.config.json): hidden 16, 2 heads of 8, 2 layers,
time_embed_dim 8, text_embed_dim 12, 4 channels, patch 2; the shapes are checked against
testdata/expected/cogvideox-2b-sft/1000.json by make_training.py.
"""
H, T, TEXT, C, P, LAYERS, HEAD = 16, 8, 12, 4, 2, 2, 8


def diffusers_transformer():
    """[(name, shape)] of the full model."""
    out = [("patch_embed.proj.weight", (H, C, P, P)), ("patch_embed.proj.bias", (H,)),
           ("patch_embed.text_proj.weight", (H, TEXT)), ("patch_embed.text_proj.bias", (H,)),
           ("time_embedding.linear_1.weight", (T, H)), ("time_embedding.linear_1.bias", (T,)),
           ("time_embedding.linear_2.weight", (T, T)), ("time_embedding.linear_2.bias", (T,))]
    for i in range(LAYERS):
        b = "transformer_blocks.%d." % i
        out += [(b + "norm1.linear.weight", (6 * H, T)), (b + "norm1.linear.bias", (6 * H,)),
                (b + "norm1.norm.weight", (H,)), (b + "norm1.norm.bias", (H,)),
                (b + "attn1.norm_q.weight", (HEAD,)), (b + "attn1.norm_q.bias", (HEAD,)),
                (b + "attn1.norm_k.weight", (HEAD,)), (b + "attn1.norm_k.bias", (HEAD,))]
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            out += [(b + "attn1.%s.weight" % proj, (H, H)), (b + "attn1.%s.bias" % proj, (H,))]
        out += [(b + "norm2.linear.weight", (6 * H, T)), (b + "norm2.linear.bias", (6 * H,)),
                (b + "norm2.norm.weight", (H,)), (b + "norm2.norm.bias", (H,)),
                (b + "ff.net.0.proj.weight", (4 * H, H)), (b + "ff.net.0.proj.bias", (4 * H,)),
                (b + "ff.net.2.weight", (H, 4 * H)), (b + "ff.net.2.bias", (H,))]
    out += [("norm_final.weight", (H,)), ("norm_final.bias", (H,)),
            ("norm_out.linear.weight", (2 * H, T)), ("norm_out.linear.bias", (2 * H,)),
            ("norm_out.norm.weight", (H,)), ("norm_out.norm.bias", (H,)),
            ("proj_out.weight", (P * P * C, H)), ("proj_out.bias", (P * P * C,))]
    return out


LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")  # CogVideo finetune/schemas/args.py target_modules


def diffusers_transformer_peft(rank):
    """[(name, shape, trainable)] after PEFT's add_adapter (adapter "default"): each targeted Linear
    becomes base_layer (frozen) + lora_A.default / lora_B.default (trainable), in peft LoraLayer's
    registration order (base_layer, lora_dropout, lora_A, lora_B)."""
    out = []
    for name, shape in diffusers_transformer():
        module, _, leaf = name.rpartition(".")
        if any(module.endswith("attn1." + t) for t in LORA_TARGETS):
            out.append((module + ".base_layer." + leaf, shape, False))
            if leaf == "bias":
                out.append((module + ".lora_A.default.weight", (rank, H), True))
                out.append((module + ".lora_B.default.weight", (H, rank), True))
        else:
            out.append((name, shape, False))
    return out
