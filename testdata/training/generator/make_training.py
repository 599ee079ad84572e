#!/usr/bin/python3
"""Writes testdata/training/{components,deepspeed,broken/z*}/ and the 16-bit module expectations.

usage: /usr/bin/python3 make_training.py TESTDATA      (Debian 12's python3-torch 1.13)

Deterministic: fixed seeds, torch's zip format; re-running rewrites the same tensors (the zip
entries' names carry no timestamp or random id in torch 1.13). The fp32 expectations of the ZeRO
folders come from DeepSpeed's own zero_to_fp32.py, run by check_zero_to_fp32.py.
"""
import hashlib
import json
import os
import shutil
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zero_layout  # noqa: E402
from models import diffusers_transformer, diffusers_transformer_peft  # noqa: E402

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
INT_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}


def entry(t):
    data = t.detach().contiguous().view(INT_VIEW[t.dtype]).numpy().tobytes()
    return {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "sha256": hashlib.sha256(data).hexdigest()}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# --- 1. component files --------------------------------------------------------------------------

def components(testdata, out):
    """The VAE and the transformer of cogvideox-2b-sft/1000 as the released files hold them."""
    source = torch.load(os.path.join(testdata, "sat/cogvideox-2b-sft/1000/mp_rank_00_model_states.pt"))
    module = source["module"]
    vae = OrderedDict((k[len("first_stage_model."):], v) for k, v in module.items()
                      if k.startswith("first_stage_model."))
    transformer = OrderedDict((k, v) for k, v in module.items() if k.startswith("model.diffusion_model."))
    os.makedirs(out, exist_ok=True)
    # released vae/3d-vae.pt: {"state_dict": {encoder.*, decoder.*, quant_conv..., loss.*}}
    torch.save({"state_dict": vae}, os.path.join(out, "3d-vae.pt"))
    # released transformer/1/mp_rank_00_model_states.pt: a bare {"module": {model.diffusion_model.*}}
    torch.save({"module": transformer}, os.path.join(out, "transformer.pt"))
    return len(vae), len(transformer)


# --- 2. DeepSpeed engine checkpoints --------------------------------------------------------------

def full_params(two_groups):
    # two groups as trainers build them: weight decay on matrices (group 0), none on vectors (group 1)
    return [(n, s, True, 0 if (not two_groups or len(s) >= 2) else 1) for n, s in diffusers_transformer()]


def lora_params(rank):
    return [(n, s, t, 0) for n, s, t in diffusers_transformer_peft(rank)]


CASES = OrderedDict([
    ("z2-dp2-bf16-full", dict(params=full_params(False), dtype=torch.bfloat16, dp=2, stage=2, seed=21)),
    ("z2-dp4-fp16-full-ema", dict(params=full_params(True), dtype=torch.float16, dp=4, stage=2, seed=24,
                                  ema=True, enum_by_value=True)),
    ("z2-dp2-bf16-lora", dict(params=lora_params(4), dtype=torch.bfloat16, dp=2, stage=2, seed=22)),
    ("z3-dp2-bf16-full", dict(params=full_params(True), dtype=torch.bfloat16, dp=2, stage=3, seed=31)),
    ("z3-dp2-fp16-lora", dict(params=lora_params(4), dtype=torch.float16, dp=2, stage=3, seed=32)),
    # every tensor of the test model has a multiple of 16 elements, so dp = 2 and 4 never pad:
    # dp = 6 pads the ZeRO-2 flat group (1024 -> 1032, the last rank 8 short), dp = 3 leaves each
    # ZeRO-3 parameter (trained and frozen) with a garbage tail on the last rank
    ("z2-dp6-bf16-lora", dict(params=lora_params(4), dtype=torch.bfloat16, dp=6, stage=2, seed=26)),
    ("z3-dp3-bf16-lora", dict(params=lora_params(4), dtype=torch.bfloat16, dp=3, stage=3, seed=33)),
])
TAG = "global_step3"


def check_shapes(testdata):
    expected = json.load(open(os.path.join(testdata, "expected/cogvideox-2b-sft/1000.json")))["transformer"]
    ours = dict(diffusers_transformer())
    assert set(ours) == set(expected), set(ours) ^ set(expected)
    for k, s in ours.items():
        assert list(s) == expected[k]["shape"], k


def deepspeed_runs(out, expected_out):
    for name, kw in CASES.items():
        run = zero_layout.Run(**kw)
        module = zero_layout.write_run(run, os.path.join(out, name), TAG)
        if kw["stage"] <= 2:
            write_json(os.path.join(expected_out, name + ".module.json"),
                       {"source": "deepspeed/%s/%s/mp_rank_00_model_states.pt 'module'" % (name, TAG),
                        "tensors": OrderedDict((k, entry(v)) for k, v in module.items())})


# --- broken variants ------------------------------------------------------------------------------

def broken(out, deepspeed):
    def copy(src, name):
        dst = os.path.join(out, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)
        return dst

    good = os.path.join(deepspeed, "z2-dp2-bf16-full")
    rank1 = os.path.join(TAG, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt")
    d = copy(good, "z2-missing-rank")
    os.remove(os.path.join(d, rank1))
    d = copy(good, "z2-truncated-rank")
    size = os.path.getsize(os.path.join(d, rank1))
    with open(os.path.join(d, rank1), "r+b") as f:
        f.truncate(size // 2)
    # rank 1 from the same model trained with 4 ranks (partition_count [4], other partition sizes)
    other = os.path.join(out, ".other-world-size")
    kw = dict(CASES["z2-dp2-bf16-full"], dp=4)
    zero_layout.write_run(zero_layout.Run(**kw), other, TAG)
    d = copy(good, "z2-other-world-size")
    shutil.copy(os.path.join(other, rank1), os.path.join(d, rank1))
    shutil.rmtree(other)
    # rank 1 from another run of the same shape (other seed, 5 steps: optimizer step 5, not 3)
    other = os.path.join(out, ".other-run")
    kw = dict(CASES["z2-dp2-bf16-full"], seed=99, steps=5)
    zero_layout.write_run(zero_layout.Run(**kw), other, TAG)
    d = copy(good, "z2-other-run")
    shutil.copy(os.path.join(other, rank1), os.path.join(d, rank1))
    shutil.rmtree(other)
    # ZeRO-3: a rank's optimizer partition missing; and, for a LoRA run, a rank's model states
    # missing (they hold that rank's fragments of the frozen parameters)
    d = copy(os.path.join(deepspeed, "z3-dp2-bf16-full"), "z3-missing-rank")
    os.remove(os.path.join(d, TAG, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"))
    d = copy(os.path.join(deepspeed, "z3-dp2-fp16-lora"), "z3-lora-missing-model-states")
    os.remove(os.path.join(d, TAG, "zero_pp_rank_1_mp_rank_00_model_states.pt"))


def main(testdata):
    torch.manual_seed(0)
    out = os.path.join(testdata, "training")
    expected = os.path.join(out, "expected")
    check_shapes(testdata)
    print("components: vae %d, transformer %d tensors" % components(testdata, os.path.join(out, "components")))
    deepspeed_runs(os.path.join(out, "deepspeed"), os.path.join(expected, "deepspeed"))
    broken(os.path.join(out, "broken"), os.path.join(out, "deepspeed"))


if __name__ == "__main__":
    main(*sys.argv[1:])
