#!/usr/bin/python3
"""Splits a single-rank SAT fixture checkpoint into model-parallel ranks, as SAT partitions them.

usage: /usr/bin/python3 split_model_parallel.py TESTDATA

Writes TESTDATA/model-parallel/ from TESTDATA/sat/: the 2B fine-tune (iteration 1000) in 2 and 4
ranks, the 5B LoRA fine-tune in 2 ranks, and the transformer/ of the released 5B-I2V layout in 2
ranks (tests add the fixture's vae/ beside it). Each rank file keeps the source's DeepSpeed wrapper (mp_world_size and param_shapes set to
the rank's); each run keeps its `latest` and `model_config.json`. Partitioning follows
SwissArmyTransformer's sat/mpu/layers.py (ColumnParallelLinear.partition, RowParallelLinear.partition,
VocabParallelEmbedding.partition):
- column-parallel weights and biases (attention.query_key_value with stride 3, mlp.dense_h_to_4h):
  split dim 0 into `stride` parts, rank r keeps chunk r of each part, concatenated;
- row-parallel weights (attention.dense, mlp.dense_4h_to_h): rank r keeps column block r;
  their biases are kept whole on every rank;
- everything else (layernorms, mixins, T5 conditioner, VAE, LoRA tensors) is replicated.
LoRA tensors are replicated as-is: the converter must refuse them, which is what the test checks.
"""
import os
import re
import shutil
import sys

import torch

LAYER = r"(^|\.)transformer\.layers\.\d+\."
COLUMN = [
    (re.compile(LAYER + r"attention\.query_key_value\.(weight|bias)$"), 3),
    (re.compile(LAYER + r"mlp\.dense_h_to_4h\.(weight|bias)$"), 1),
    (re.compile(r"(^|\.)transformer\.word_embeddings\.weight$"), 1),
]
ROW = [re.compile(LAYER + r"attention\.dense\.weight$"), re.compile(LAYER + r"mlp\.dense_4h_to_h\.weight$")]


def split(key, tensor, ranks):
    for pattern, stride in COLUMN:
        if pattern.search(key):
            parts = [p.chunk(ranks, dim=0) for p in tensor.chunk(stride, dim=0)]
            return [torch.cat([p[r] for p in parts], dim=0).clone() for r in range(ranks)]
    if any(p.search(key) for p in ROW):
        return [c.contiguous().clone() for c in tensor.chunk(ranks, dim=1)]
    return None  # replicated: every rank keeps the same tensor object (tied storages stay tied)


def split_run(run_dir, iteration, ranks, out_dir):
    source = torch.load(os.path.join(run_dir, iteration, "mp_rank_00_model_states.pt"))
    module = source["module"]
    per_rank = [type(module)() for _ in range(ranks)]
    for key, tensor in module.items():
        pieces = split(key, tensor, ranks)
        for r in range(ranks):
            per_rank[r][key] = tensor if pieces is None else pieces[r]
    os.makedirs(os.path.join(out_dir, iteration), exist_ok=True)
    for name in ("latest", "model_config.json"):
        if os.path.exists(os.path.join(run_dir, name)):
            shutil.copy(os.path.join(run_dir, name), os.path.join(out_dir, name))
    for r in range(ranks):
        wrapper = dict(source)
        wrapper["module"] = per_rank[r]
        wrapper["mp_world_size"] = ranks
        if isinstance(wrapper.get("param_shapes"), list):
            wrapper["param_shapes"] = [
                type(group)((k, per_rank[r][k].shape) for k in group if k in per_rank[r])
                for group in wrapper["param_shapes"]
            ]
        torch.save(wrapper, os.path.join(out_dir, iteration, "mp_rank_%02d_model_states.pt" % r))


def main(testdata):
    sat = os.path.join(testdata, "sat")
    out = os.path.join(testdata, "model-parallel")
    split_run(os.path.join(sat, "cogvideox-2b-sft"), "1000", 2, os.path.join(out, "cogvideox-2b-sft-mp2"))
    split_run(os.path.join(sat, "cogvideox-2b-sft"), "1000", 4, os.path.join(out, "cogvideox-2b-sft-mp4"))
    split_run(os.path.join(sat, "cogvideox-5b-lora"), "200", 2, os.path.join(out, "cogvideox-5b-lora-mp2"))
    release = os.path.join(out, "cogvideox-5b-i2v-release-mp2")
    split_run(os.path.join(sat, "cogvideox-5b-i2v-release", "transformer"), "1", 2, os.path.join(release, "transformer"))


if __name__ == "__main__":
    main(*sys.argv[1:])
