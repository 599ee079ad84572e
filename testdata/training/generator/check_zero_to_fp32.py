#!/usr/bin/python3
"""Runs DeepSpeed's own zero_to_fp32.py on every folder of testdata/training/deepspeed/ and on the
DeepSpeed checkpoint-N/ folders of testdata/training/trainer/, and writes what it gives as the fp32
expectations (testdata/training/expected/<same path>.zero_to_fp32.json and, its fp32 tensors cast once
to bf16 by torch, <same path>.zero_to_fp32.bf16.json).

usage: python3 check_zero_to_fp32.py DEEPSPEED_CHECKOUT TESTDATA
  DEEPSPEED_CHECKOUT: a checkout of github microsoft/DeepSpeed (v0.16.5, commit 38327e07f6cd), kept
  outside this repository; only deepspeed/utils/zero_to_fp32.py and deepspeed/checkpoint/constants.py
  are used, unchanged. Needs torch >= 2.1 (zero_to_fp32 calls torch.load(mmap=True)), tqdm, numpy:
  Debian 13's python3-torch, python3-tqdm, python3-numpy.

DeepSpeed itself is not installed: its logger and the classes the pickles name are stubbed here
(the same stand-ins the generator pickled, zero_layout.py), the rest of the script runs as shipped
(convert_zero_checkpoint_to_fp32_state_dict, max_shard_size=None: one pytorch_model.bin).
Also checks that zero_to_fp32 refuses the broken ZeRO folders of testdata/training/broken/.
"""
import hashlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zero_layout  # noqa: E402  (installs deepspeed.runtime.zero.config etc. stand-ins)

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
INT_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}


def entry(t):
    data = t.detach().contiguous().view(INT_VIEW[t.dtype]).numpy().tobytes()
    return {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "sha256": hashlib.sha256(data).hexdigest()}


def load_zero_to_fp32(checkout):
    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    utils = zero_layout._module("deepspeed.utils")
    utils.logger = logging.getLogger("deepspeed")
    checkpoint = zero_layout._module("deepspeed.checkpoint")
    checkpoint.constants = load("deepspeed.checkpoint.constants",
                                os.path.join(checkout, "deepspeed/checkpoint/constants.py"))
    return load("zero_to_fp32", os.path.join(checkout, "deepspeed/utils/zero_to_fp32.py"))


def run(z2f, folder):
    with tempfile.TemporaryDirectory() as out:
        z2f.convert_zero_checkpoint_to_fp32_state_dict(folder, out, max_shard_size=None)
        return torch.load(os.path.join(out, "pytorch_model.bin"), map_location="cpu", weights_only=True)


def recipe_matches(root, case, sd):
    """The rule the README states, applied without zero_to_fp32: ZeRO-2, a group's partitions
    concatenated in rank order hold its parameters back to back; ZeRO-3, each parameter takes
    ceil(numel/N) elements of every rank's flat groups (taken in order), rank r holding elements
    [r*p, (r+1)*p) of it. Frozen parameters: ZeRO-2 frozen_param_fragments whole; ZeRO-3 the ranks'
    fragments concatenated, cut to numel."""
    tag_dir = os.path.join(root, case, open(os.path.join(root, case, "latest")).read().strip())
    names = sorted(os.listdir(tag_dir))
    optim = [torch.load(os.path.join(tag_dir, n), map_location="cpu", weights_only=False)["optimizer_state_dict"]
             for n in sorted((n for n in names if n.endswith("_optim_states.pt")),
                             key=lambda n: int(n.split("zero_pp_rank_")[1].split("_")[0]))]
    models = [torch.load(os.path.join(tag_dir, n), map_location="cpu", weights_only=False)
              for n in sorted((n for n in names if n.endswith("_model_states.pt")),
                              key=lambda n: int(n.split("rank_")[1].split("_")[0]))]
    dp = len(optim)
    got = OrderedDict()
    if "single_partition_of_fp32_groups" in optim[0]:
        for g, shapes in enumerate(models[0]["param_shapes"]):
            flat = torch.cat([o["single_partition_of_fp32_groups"][g] for o in optim])
            offset = 0
            for name, shape in shapes.items():
                got[name] = flat[offset:offset + shape.numel()].view(shape)
                offset += shape.numel()
        for name, t in (models[0]["frozen_param_fragments"] or {}).items():
            got[name] = t
    else:
        flats = [torch.cat(o["fp32_flat_groups"]) for o in optim]
        offset = 0
        for shapes in models[0]["param_shapes"]:
            for name, shape in shapes.items():
                p = -(-shape.numel() // dp)
                got[name] = torch.cat([f[offset:offset + p] for f in flats])[:shape.numel()].view(shape)
                offset += p
        for name, shape in (models[0]["frozen_param_shapes"] or {}).items():
            got[name] = torch.cat([m["frozen_param_fragments"][name] for m in models])[:shape.numel()].view(shape)
    same = sum(1 for k, v in sd.items() if k in got and got[k].dtype == v.dtype and torch.equal(got[k], v))
    return same, len(sd)


def main(checkout, testdata):
    z2f = load_zero_to_fp32(checkout)
    root = os.path.join(testdata, "training")
    version = open(os.path.join(checkout, "version.txt")).read().strip()
    cases = ["deepspeed/" + c for c in sorted(os.listdir(os.path.join(root, "deepspeed")))]
    for trainer in sorted(os.listdir(os.path.join(root, "trainer"))):
        for checkpoint in sorted(os.listdir(os.path.join(root, "trainer", trainer))):
            if os.path.exists(os.path.join(root, "trainer", trainer, checkpoint, "latest")):
                cases.append("trainer/%s/%s" % (trainer, checkpoint))
    for case in cases:
        sd = run(z2f, os.path.join(root, case))
        note = ("DeepSpeed %s deepspeed/utils/zero_to_fp32.py on %s (its `latest`), "
                "the pytorch_model.bin it wrote" % (version, case))
        for suffix, cast in (("", None), (".bf16", torch.bfloat16)):
            tensors = OrderedDict((k, entry(v if cast is None or v.dtype != torch.float32 else v.to(cast)))
                                  for k, v in sd.items())
            path = os.path.join(root, "expected", case + ".zero_to_fp32%s.json" % suffix)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump({"source": note + ("" if cast is None else "; fp32 tensors cast to bf16 by torch"),
                           "tensors": tensors}, f, indent=1)
                f.write("\n")
        consistency = "; the README's recipe gives the same %d/%d" % recipe_matches(root, case, sd)
        tag_dir = os.path.join(root, case, open(os.path.join(root, case, "latest")).read().strip())
        model_file = os.path.join(tag_dir, "mp_rank_00_model_states.pt")
        if os.path.exists(model_file):
            # ZeRO-2: after a step DeepSpeed copies the fp32 partitions into the 16-bit module, so the
            # module must be zero_to_fp32's fp32 tensors rounded once (frozen ones: identical)
            module = torch.load(model_file, map_location="cpu", weights_only=False)["module"]
            same = sum(1 for k, v in module.items()
                       if torch.equal(sd[k].to(v.dtype).view(torch.int16), v.view(torch.int16)))
            assert same == len(module) == len(sd), (case, same, len(module), len(sd))
            consistency += "; 16-bit module == its fp32 rounded, %d/%d tensors" % (same, len(module))
        print("%s: %d tensors, %d elements, dtypes %s%s" % (
            case, len(sd), sum(v.numel() for v in sd.values()), sorted({str(v.dtype) for v in sd.values()}),
            consistency))
    for case in sorted(os.listdir(os.path.join(root, "broken"))):
        if not case.startswith("z"):
            continue
        try:
            sd = run(z2f, os.path.join(root, "broken", case))
            print("broken/%s: zero_to_fp32 ACCEPTED it (%d tensors)" % (case, len(sd)))
        except Exception as e:  # noqa: BLE001 (reporting whatever zero_to_fp32 raised)
            print("broken/%s: zero_to_fp32 refused: %s: %s" % (case, type(e).__name__, str(e)[:160]))


if __name__ == "__main__":
    main(*sys.argv[1:])
