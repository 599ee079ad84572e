#!/usr/bin/python3
"""Writes the fixtures that need torch 2: testdata/training/{sat-z3,trainer,dcp,broken/sat-z3-*}/ and
their expectations.

usage (Debian 13 chroot, python3-torch 2.6 + python3-safetensors; see ../README.md):
  python3 make_torch2.py TESTDATA [sat-z3] [trainer] [dcp]      (default: all three)

- sat-z3: SAT stores each ZeRO-3 partition with a Python attribute (ds_shape) on the tensor; torch 2
  pickles such a tensor through torch._tensor._rebuild_from_type_v2 with that attribute, torch 1.13
  drops it, so SAT's files can only be written faithfully with torch 2.
- trainer: CogVideo's finetune/ trainer (accelerate + diffusers + peft) requires torch 2.
- dcp: torch.distributed.checkpoint.
"""
import hashlib
import json
import math
import os
import random
import shutil
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.distributed.checkpoint as dcp
from safetensors.torch import save_file

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


def manifest(source, tensors, **extra):
    return dict(source=source, **extra, tensors=OrderedDict((k, entry(v)) for k, v in tensors.items()))


# --- SAT's own ZeRO-3 save ------------------------------------------------------------------------

def sat_z3(source_file, folder, iteration, expected_path, equals, dp=2):
    """SwissArmyTransformer sat/training/model_io.py (commit 63dc23aeb40b): save_ds_checkpoint_no_optim
    (line 214) under ZeRO-3 has every rank write torch.save({'module': zero3_state_dict(model)},
    '<iteration>/z3_rank_{rank:02d}_model_states.pt') (line 222); zero3_save_to_state_dict (line 357)
    stores param.ds_tensor.detach() with the attribute ds_shape = param.ds_shape (lines 376-377), under
    keys prefixed 'module.' (the DeepSpeed engine wraps the model); zero3_state_dict (line 388) gives
    an OrderedDict with _metadata. No optimizer file, no DeepSpeed wrapper keys, no param_shapes.
    The partitions follow DeepSpeed's partition_parameters.py _partition_param (lines 1589-1645):
    ceil(numel/dp) elements per rank, the last rank's tail left as torch.empty (random here)."""
    module = torch.load(source_file, weights_only=False)["module"]
    garbage = torch.Generator().manual_seed(3)
    parts_of = {}
    per_rank = []
    for _ in range(dp):
        d = OrderedDict()
        d._metadata = OrderedDict()
        per_rank.append(d)
    for key, t in module.items():
        ptr = (t.data_ptr(), t.numel(), t.dtype)
        if ptr not in parts_of:  # a tied parameter is one ds_tensor under two names
            n = t.numel()
            size = (n + dp - 1) // dp
            flat = t.reshape(-1)
            parts = []
            for r in range(dp):
                part = (torch.randn(size, generator=garbage) * 7).to(t.dtype)
                real = max(0, min(size, n - r * size))
                part[:real] = flat[r * size:r * size + real]
                parts.append(part)
            parts_of[ptr] = parts
        for r in range(dp):
            saved = parts_of[ptr][r].detach()
            saved.ds_shape = t.shape
            per_rank[r]["module." + key] = saved
            per_rank[r]._metadata.setdefault("module." + key.rpartition(".")[0], {"version": 1})
    for r in range(dp):
        zero_layout.save({"module": per_rank[r]},
                         os.path.join(folder, iteration, "z3_rank_%02d_model_states.pt" % r), gpu="cuda:%d" % r)
    with open(os.path.join(folder, "latest"), "w") as f:  # model_io.py line 226
        f.write(iteration)
    config = os.path.join(os.path.dirname(os.path.dirname(source_file)), "model_config.json")
    if os.path.exists(config):
        shutil.copy(config, os.path.join(folder, "model_config.json"))

    # consolidate (rank r holds elements [r*p, (r+1)*p)) and check every tensor comes back bit for bit
    loaded = [torch.load(os.path.join(folder, iteration, "z3_rank_%02d_model_states.pt" % r),
                         map_location="cpu", weights_only=False) for r in range(dp)]
    tensors = OrderedDict()
    for key in loaded[0]["module"]:
        shape = loaded[0]["module"][key].ds_shape
        whole = torch.cat([part["module"][key] for part in loaded])[:math.prod(shape)].view(shape)
        original = module[key[len("module."):]]
        assert whole.dtype == original.dtype
        assert torch.equal(whole.view(INT_VIEW[whole.dtype]), original.contiguous().view(INT_VIEW[whole.dtype])), key
        tensors[key[len("module."):]] = whole
    write_json(expected_path, manifest("%s, z3_rank_*_model_states.pt consolidated" % os.path.basename(folder),
                                       tensors, equals=equals))


# --- CogVideo finetune/ checkpoint-<step>/ folders ------------------------------------------------

def rng_states(step, process_index):
    """accelerate checkpointing.py save_accelerator_state: random_states_<process>.pkl (torch.save)."""
    random.seed(process_index)
    np.random.seed(process_index)
    torch.manual_seed(process_index)
    return {"step": step, "random_state": random.getstate(), "numpy_random_seed": np.random.get_state(),
            "torch_manual_seed": torch.get_rng_state(),
            # torch.cuda.get_rng_state_all(): one 816-byte ByteTensor per visible GPU
            "torch_cuda_manual_seed": [torch.full((816,), process_index, dtype=torch.uint8)]}


def peft_lora_state(module):
    """diffusers save_lora_weights(transformer_lora_layers=get_peft_model_state_dict(model)): the
    LoRA tensors, adapter name removed, prefixed 'transformer.' (CogVideoXLoraLoaderMixin)."""
    return OrderedDict(("transformer." + k.replace(".default.", "."), v.detach().clone().contiguous())
                       for k, v in module.items() if ".lora_" in k)


def trainer_zero2(out, expected, name, params, steps, lora, seed):
    """accelerate Accelerator.save_state under DeepSpeed (accelerator.py save_state: for the first
    model model.save_checkpoint(output_dir, 'pytorch_model'), so checkpoint-N/pytorch_model/<files>
    and checkpoint-N/latest = 'pytorch_model'; DeepSpeed's scheduler wrapper is skipped; then the
    save-state pre-hooks (CogVideo trainer.py save_model_hook: pytorch_lora_weights.safetensors for
    LoRA), then random_states_<process>.pkl from every process). DeepSpeed also copies its
    zero_to_fp32.py into checkpoint-N/: left out here (DeepSpeed's code)."""
    folder = os.path.join(out, name, "checkpoint-%d" % steps)
    run = zero_layout.Run(params=params, dtype=torch.bfloat16, dp=2, stage=2, seed=seed, steps=steps)
    module = zero_layout.write_run(run, folder, "pytorch_model")
    written = {"module": module}
    if lora:
        lora_sd = peft_lora_state(module)
        save_file(lora_sd, os.path.join(folder, "pytorch_lora_weights.safetensors"), metadata={"format": "pt"})
        written["lora"] = lora_sd
    for r in range(2):
        torch.save(rng_states(steps, r), os.path.join(folder, "random_states_%d.pkl" % r))
    write_json(os.path.join(expected, name, "checkpoint-%d.module.json" % steps),
               manifest("%s/checkpoint-%d/pytorch_model/mp_rank_00_model_states.pt 'module'" % (name, steps), module))
    if lora:
        write_json(os.path.join(expected, name, "checkpoint-%d.lora.json" % steps),
                   manifest("%s/checkpoint-%d/pytorch_lora_weights.safetensors" % (name, steps), written["lora"]))


def build_module(named_shapes, dtype, seed):
    """An nn.Module tree whose state_dict has exactly these names, in this order."""
    gen = torch.Generator().manual_seed(seed)
    root = torch.nn.Module()
    for name, shape in named_shapes:
        *path, leaf = name.split(".")
        m = root
        for part in path:
            if not hasattr(m, part):
                m.add_module(part, torch.nn.Module())
            m = getattr(m, part)
        m.register_parameter(leaf, torch.nn.Parameter((torch.randn(shape, generator=gen) * 0.2).to(dtype)))
    return root


def train(model, steps, seed, lr=1e-3):
    """AdamW steps with seeded random gradients on the trainable parameters; returns the optimizer."""
    gen = torch.Generator().manual_seed(seed + 500)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    for _ in range(steps):
        for p in params:
            p.grad = (torch.randn(p.shape, generator=gen) * 0.05).to(p.dtype)
        opt.step()
    return opt


def trainer_ddp(out, expected, name, steps, lora, seed):
    """accelerate save_state without DeepSpeed (train_ddp_*.sh: 2 processes, DDP): weights of
    get_state_dict(model, unwrap=False), i.e. the DDP wrapper's keys 'module.<name>', fp32 (CogVideo
    loads the transformer in fp32 and trains it under autocast), as model.safetensors (trainer.py
    save_state(..., safe_serialization=True); accelerate checkpointing.py: metadata {'format': 'pt'});
    optimizer.bin, scheduler.bin, random_states_<process>.pkl. LoRA: the pre-hook pops the weights and
    writes pytorch_lora_weights.safetensors instead (LoRA params fp32: trainer.py cast_training_params)."""
    folder = os.path.join(out, name, "checkpoint-%d" % steps)
    os.makedirs(folder, exist_ok=True)
    if lora:
        named = [(n, s) for n, s, _ in diffusers_transformer_peft(4)]
        model = build_module(named, torch.float32, seed)
        for n, p in model.named_parameters():
            p.requires_grad_(".lora_" in n)
    else:
        model = build_module(diffusers_transformer(), torch.float32, seed)
    opt = train(model, steps, seed)
    sd = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    if lora:
        weights = peft_lora_state(sd)
        save_file(weights, os.path.join(folder, "pytorch_lora_weights.safetensors"), metadata={"format": "pt"})
        what = "pytorch_lora_weights.safetensors"
    else:
        weights = OrderedDict(("module." + k, v) for k, v in sd.items())
        save_file(weights, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        what = "model.safetensors"
    torch.save(opt.state_dict(), os.path.join(folder, "optimizer.bin"))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    torch.save(sched.state_dict(), os.path.join(folder, "scheduler.bin"))
    for r in range(2):
        torch.save(rng_states(steps, r), os.path.join(folder, "random_states_%d.pkl" % r))
    write_json(os.path.join(expected, name, "checkpoint-%d.%s.json" % (steps, "lora" if lora else "model")),
               manifest("%s/checkpoint-%d/%s" % (name, steps, what), weights))


# --- torch.distributed.checkpoint as CogKit saves it ------------------------------------------------

def dcp_checkpoint(out, expected, name, steps, lora, seed):
    """CogKit src/cogkit/finetune/base/base_trainer.py (commit 16332858462a, lines 434-439):
    dcp.save({'app': AppState(transformer, optimizer, lora)}, checkpoint_id=<output>/checkpoint-<step>);
    AppState.state_dict (src/cogkit/finetune/utils/ckpt.py lines 54-62) returns {'model': ..., 'optim': ...}
    from torch.distributed.checkpoint.state_dict.get_state_dict(model, optimizer), the model part
    replaced by peft's get_peft_model_state_dict for LoRA. DCP flattens the nesting, so the model's
    tensors are 'app.model.<name>' (what CogKit's tools/converters/merge.py reads back as
    state['app']['model']). One process, no process group: each tensor is one chunk."""
    from torch.distributed.checkpoint.state_dict import get_state_dict
    from torch.distributed.checkpoint.stateful import Stateful

    if lora:
        named = [(n, s) for n, s, _ in diffusers_transformer_peft(4)]
        model = build_module(named, torch.bfloat16, seed)
        for n, p in model.named_parameters():
            p.requires_grad_(".lora_" in n)
    else:
        model = build_module(diffusers_transformer(), torch.bfloat16, seed)
    opt = train(model, steps, seed)

    class AppState(Stateful):
        def state_dict(self):
            model_sd, optim_sd = get_state_dict(model, opt)
            if lora:  # get_peft_model_state_dict: the adapter's tensors, adapter name removed
                model_sd = OrderedDict((k.replace(".default.", "."), v) for k, v in model_sd.items() if ".lora_" in k)
            self.saved = model_sd
            return {"model": model_sd, "optim": optim_sd}

        def load_state_dict(self, state_dict):
            raise NotImplementedError

    app = AppState()
    folder = os.path.join(out, name, "checkpoint-%d" % steps)
    shutil.rmtree(folder, ignore_errors=True)
    dcp.save({"app": app}, checkpoint_id=folder)
    write_json(os.path.join(expected, name, "checkpoint-%d.json" % steps),
               manifest("%s/checkpoint-%d: the 'app.model.*' tensors dcp.save wrote" % (name, steps),
                        OrderedDict(("app.model." + k, v.detach()) for k, v in app.saved.items())))


def check_dcp(out, expected):
    """Reads every DCP folder back the way CogKit's tools/converters/merge.py does (torch's
    dcp_to_torch_save, then state['app']['model']) and compares with its manifest."""
    import tempfile
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save
    for name in sorted(os.listdir(out)):
        for checkpoint in sorted(os.listdir(os.path.join(out, name))):
            with tempfile.TemporaryDirectory() as tmp:
                dcp_to_torch_save(os.path.join(out, name, checkpoint), os.path.join(tmp, "sd.pt"))
                state = torch.load(os.path.join(tmp, "sd.pt"), weights_only=False)
            got = OrderedDict(("app.model." + k, entry(v)) for k, v in state["app"]["model"].items())
            want = json.load(open(os.path.join(expected, name, checkpoint + ".json")))["tensors"]
            assert got == want, name
            print("dcp/%s/%s: %d model tensors read back equal" % (name, checkpoint, len(got)))


def _fsdp2_worker(rank, folder, expected_path, name, steps, seed):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29533", USE_LIBUV="0")
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    from torch.distributed.checkpoint.state_dict import get_state_dict
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import Shard, distribute_tensor

    mesh = init_device_mesh("cpu", (2,))
    # CogKit loads the transformer in the training dtype (cogvideox_t2v/lora_trainer.py lines 53-58)
    model = build_module([(n, s) for n, s, _ in diffusers_transformer_peft(5)], torch.bfloat16, seed)
    for n, p in model.named_parameters():
        p.requires_grad_(".lora_" in n)
    for block in model.transformer_blocks.children():  # one FSDP unit per block, then the root
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed + 500)
    for _ in range(steps):  # the same full gradients on both ranks, each keeps its dim-0 shard
        for p in trainable:
            p.grad = distribute_tensor((torch.randn(p.shape, generator=gen) * 0.05).to(p.dtype), mesh, [Shard(0)])
        opt.step()
    model_sd, optim_sd = get_state_dict(model, opt)
    # AppState.state_dict with lora=True: peft's get_peft_model_state_dict (adapter name removed)
    model_sd = OrderedDict((k.replace(".default.", "."), v) for k, v in model_sd.items() if ".lora_" in k)
    dcp.save({"app": {"model": model_sd, "optim": optim_sd}}, checkpoint_id=folder)
    full = OrderedDict(("app.model." + k, v.full_tensor()) for k, v in model_sd.items())
    if rank == 0:
        write_json(expected_path, manifest(
            "%s/checkpoint-%d: the 'app.model.*' tensors dcp.save wrote (2 ranks, gathered)" % (name, steps), full))
    torch.distributed.destroy_process_group()


def dcp_fsdp2(out, expected, name, steps, seed):
    """A LoRA run (r = 5) saved the same way from 2 processes (gloo on 127.0.0.1) with FSDP2
    fully_shard (torch 2.6 torch.distributed.fsdp.fully_shard): every tensor is a DTensor sharded on
    dim 0, so the .metadata lists 2 chunks per tensor (3 + 2 rows for lora_A, whose dim 0 is r = 5)
    in __0_0.distcp and __1_0.distcp.
    CogKit wraps with FSDP1 (base_trainer.py line 197), whose sharded state dict is likewise dim-0
    chunks per rank; FSDP needs a GPU for forward passes, so the gradients are set by hand."""
    import torch.multiprocessing as mp
    folder = os.path.join(out, name, "checkpoint-%d" % steps)
    shutil.rmtree(folder, ignore_errors=True)
    mp.spawn(_fsdp2_worker, args=(folder, os.path.join(expected, name, "checkpoint-%d.json" % steps), name, steps, seed),
             nprocs=2)


def main(testdata, *parts):
    """parts: any of sat-z3, trainer, dcp (default: all)."""
    parts = parts or ("sat-z3", "trainer", "dcp")
    root = os.path.join(testdata, "training")
    expected = os.path.join(root, "expected")
    for d in parts:
        shutil.rmtree(os.path.join(root, d), ignore_errors=True)
        shutil.rmtree(os.path.join(expected, d), ignore_errors=True)
    if "sat-z3" in parts:
        sat = os.path.join(testdata, "sat")
        sat_z3(os.path.join(sat, "cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt"),
               os.path.join(root, "sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2"), "300",
               os.path.join(expected, "sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2.module.json"),
               "sat/cogvideox1.5-5b-i2v-lora/300 'module': converts to "
               "../../expected/cogvideox1.5-5b-i2v-lora/300.alpha1.json")
        # dp = 3: the fixtures' tensors all have an even number of elements, so only an odd world
        # size leaves a padded (garbage) tail on the last rank
        release = os.path.join(root, "sat-z3/cogvideox-5b-i2v-release-z3dp3")
        sat_z3(os.path.join(sat, "cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt"),
               os.path.join(release, "transformer"), "1",
               os.path.join(expected, "sat-z3/cogvideox-5b-i2v-release-z3dp3.module.json"),
               "sat/cogvideox-5b-i2v-release/transformer 'module': converts to "
               "../../expected/cogvideox-5b-i2v-release/transformer.json", dp=3)
        broken = os.path.join(root, "broken")
        for variant in ("sat-z3-missing-rank", "sat-z3-truncated-rank"):
            shutil.rmtree(os.path.join(broken, variant), ignore_errors=True)
            shutil.copytree(release, os.path.join(broken, variant))
        os.remove(os.path.join(broken, "sat-z3-missing-rank/transformer/1/z3_rank_01_model_states.pt"))
        cut = os.path.join(broken, "sat-z3-truncated-rank/transformer/1/z3_rank_02_model_states.pt")
        with open(cut, "r+b") as f:
            f.truncate(os.path.getsize(cut) * 2 // 3)

    if "trainer" in parts:
        trainer = os.path.join(root, "trainer")
        texp = os.path.join(expected, "trainer")
        full = [(n, s, True, 0) for n, s in diffusers_transformer()]
        peft = [(n, s, t, 0) for n, s, t in diffusers_transformer_peft(4)]
        trainer_zero2(trainer, texp, "cogvideox-t2v-sft-zero2", full, 2, False, 41)
        trainer_zero2(trainer, texp, "cogvideox-t2v-sft-zero2", full, 4, False, 41)
        trainer_zero2(trainer, texp, "cogvideox-t2v-lora-zero2", peft, 3, True, 42)
        trainer_ddp(trainer, texp, "cogvideox-t2v-sft-ddp", 3, False, 43)
        trainer_ddp(trainer, texp, "cogvideox-t2v-lora-ddp", 3, True, 44)

    if "dcp" in parts:
        dcp_checkpoint(os.path.join(root, "dcp"), os.path.join(expected, "dcp"), "cogkit-t2v-sft", 3, False, 51)
        dcp_fsdp2(os.path.join(root, "dcp"), os.path.join(expected, "dcp"), "fsdp2-t2v-lora-2ranks", 3, 53)
        check_dcp(os.path.join(root, "dcp"), os.path.join(expected, "dcp"))


if __name__ == "__main__":
    main(*sys.argv[1:])
