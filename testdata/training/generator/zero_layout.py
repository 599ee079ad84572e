"""DeepSpeed ZeRO checkpoint layouts written with plain torch, as DeepSpeed's saving code lays them out.

Shared by make_training.py (torch 1.13, host) and make_trainer_checkpoints.py (torch 2.6, Debian 13
chroot). Nothing here imports DeepSpeed: the few DeepSpeed classes the real pickles name are defined
below as inert stand-ins under the same module and qualified names, so the files reference exactly
the globals real DeepSpeed files reference.

Every rule cites DeepSpeed v0.16.5 (github microsoft/DeepSpeed, commit 38327e07f6cd, version.txt
"0.16.5"); "engine" is deepspeed/runtime/engine.py, "stage12" deepspeed/runtime/zero/stage_1_and_2.py,
"stage3" deepspeed/runtime/zero/stage3.py, "partition" deepspeed/runtime/zero/partition_parameters.py.
"""
import math
import os
import sys
import types
from collections import OrderedDict
from enum import Enum

import torch

DS_VERSION = "0.16.5"


# --- stand-ins for the classes the pickles name ----------------------------------------------------

def _module(name):
    if name not in sys.modules:
        sys.modules[name] = types.ModuleType(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(_module(parent), child, sys.modules[name])
    return sys.modules[name]


class ZeroStageEnum(int, Enum):
    """deepspeed/runtime/zero/config.py class ZeroStageEnum (line 77): pickled by value."""
    disabled = 0
    optimizer_states = 1
    gradients = 2
    weights = 3


class LossScalerBase:
    """deepspeed/runtime/fp16/loss_scaler.py LossScalerBase (line 42): attributes cur_scale, dynamic."""

    def __init__(self, cur_scale):
        self.cur_scale = cur_scale
        self.dynamic = False


class LossScaler(LossScalerBase):
    """Static scaler; CreateLossScaler (loss_scaler.py line 208) makes LossScaler(1.0) for bf16."""


class DynamicLossScaler(LossScalerBase):
    """fp16 with dynamic scaling: the attributes DynamicLossScaler.__init__ (line 118) sets."""

    def __init__(self, cur_scale, cur_iter, last_overflow_iter):
        super().__init__(cur_scale)
        self.cur_iter = cur_iter
        self.last_overflow_iter = last_overflow_iter
        self.scale_factor = 2.0
        self.scale_window = 1000
        self.min_scale = 1
        self.delayed_shift = 1
        self.cur_hysteresis = 1
        self.consecutive_hysteresis = False
        self.raise_error_at_min_scale = True
        self.dynamic = True
        self.dtype = torch.float16


class fragment_address:  # noqa: N801 (DeepSpeed's name)
    """deepspeed/utils/tensor_fragment.py @dataclass fragment_address (line 13): numel, start."""

    def __init__(self, numel, start):
        self.numel = numel
        self.start = start


def install_standins():
    for cls, module in ((ZeroStageEnum, "deepspeed.runtime.zero.config"),
                        (LossScalerBase, "deepspeed.runtime.fp16.loss_scaler"),
                        (LossScaler, "deepspeed.runtime.fp16.loss_scaler"),
                        (DynamicLossScaler, "deepspeed.runtime.fp16.loss_scaler"),
                        (fragment_address, "deepspeed.utils.tensor_fragment")):
        cls.__module__ = module
        setattr(_module(module), cls.__name__, cls)


install_standins()


# --- cuda:<rank> storage locations without a GPU ---------------------------------------------------
# torch.save asks each registered tagger for a storage's location (torch/serialization.py
# location_tag); a tagger registered ahead of the CPU one names the storages a rank held on its GPU.

_cpu_storages = set()
_gpu_tag = [None]


def _tagger(storage):
    if _gpu_tag[0] is None or storage.data_ptr() in _cpu_storages:
        return None
    return _gpu_tag[0]


torch.serialization.register_package(1, _tagger, lambda obj, location: None)


def save(obj, path, gpu=None, cpu_tensors=()):
    """torch.save(obj, path); storages are tagged `gpu` ('cuda:N') except those of cpu_tensors."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _gpu_tag[0] = gpu
    _cpu_storages.clear()
    _cpu_storages.update(t.data_ptr() for t in cpu_tensors if t.numel())
    try:
        torch.save(obj, path)
    finally:
        _gpu_tag[0] = None
        _cpu_storages.clear()


# --- a training run ---------------------------------------------------------------------------------

class Run:
    """A tiny model trained for `steps` AdamW steps under ZeRO: params is an ordered list of
    (name, shape, trainable, group); dtype the 16-bit module dtype; dp the data-parallel size."""

    def __init__(self, params, dtype, dp, stage, seed, steps=3, ema=False, ds_config=None, enum_by_value=False):
        self.params = params
        self.dtype = dtype
        self.dp = dp
        self.stage = stage
        self.seed = seed
        self.steps = steps
        self.ema = ema
        self.enum_by_value = enum_by_value
        self.ds_config = ds_config or default_ds_config(dtype, stage)
        gen = torch.Generator().manual_seed(seed)
        # 16-bit initial weights (the module as loaded), the fp32 masters start as their upcast
        # (stage12 __init__ lines 398-409: weights_partition = bit16 partition .clone().float())
        self.init16 = OrderedDict(
            (name, (torch.randn(shape, generator=gen) * 0.2).to(dtype)) for name, shape, _, _ in params)
        self.gen = gen
        self.groups = sorted({g for _, _, trainable, g in params if trainable})

    def trainable(self, group):
        return [(n, s) for n, s, t, g in self.params if t and g == group]

    def frozen(self):
        return [(n, s) for n, s, t, _ in self.params if not t]

    def loss_scaler(self):
        if self.dtype == torch.float16:
            return DynamicLossScaler(cur_scale=65536.0, cur_iter=self.steps, last_overflow_iter=-1)
        return LossScaler(1.0)

    def train(self, flat_fp32_partitions, real_masks):
        """AdamW steps on each rank's fp32 partitions (one torch param group per ZeRO group,
        engine-side grads are zero on padding). Returns per-rank optimizer state dicts."""
        states = []
        grads = {}
        for r in range(self.dp):
            for gi in range(len(self.groups)):
                for step in range(self.steps):
                    g = torch.randn(flat_fp32_partitions[r][gi].numel(), generator=self.gen) * 0.05
                    grads[(r, gi, step)] = g * real_masks[r][gi]
        for r in range(self.dp):
            parts = flat_fp32_partitions[r]
            for p in parts:
                p.requires_grad_(True)
            opt = torch.optim.AdamW(
                [{"params": [p], "weight_decay": 0.01 if gi == 0 else 0.0} for gi, p in enumerate(parts)],
                lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
            shadows = [p.detach().clone() for p in parts]
            for step in range(self.steps):
                for gi, p in enumerate(parts):
                    p.grad = grads[(r, gi, step)].clone()
                opt.step()
                for s, p in zip(shadows, parts):  # SAT FusedEmaAdam: shadow = decay*shadow + (1-decay)*p
                    s.mul_(0.99).add_(p.detach(), alpha=0.01)
            for p in parts:
                p.requires_grad_(False)
                p.grad = None
            sd = opt.state_dict()
            if self.ema:
                # SAT's FusedEmaAdam (sat/ops/fused_ema_adam.py step(), lines 185-235): per-param state
                # step (int), exp_avg, exp_avg_sq, shadow; the group keeps its hyper-parameters.
                for i, s in enumerate(shadows):
                    st = sd["state"][i]
                    sd["state"][i] = {"step": int(st["step"]), "exp_avg": st["exp_avg"],
                                      "exp_avg_sq": st["exp_avg_sq"], "shadow": s}
                for group in sd["param_groups"]:
                    group.pop("amsgrad", None)
                    group.pop("maximize", None)
                    group.pop("foreach", None)
                    group.pop("capturable", None)
                    group.pop("differentiable", None)
                    group.pop("fused", None)
                    group["ema_decay"] = 0.99
                    group["bias_correction"] = True
            states.append(sd)
        return states


def default_ds_config(dtype, stage):
    """The ds_config dict the engine pickles (engine _save_checkpoint line 3488: ds_config=self.config,
    the user's dict, as accelerate fills it from finetune/configs/zero2.yaml)."""
    return {
        "bf16": {"enabled": dtype == torch.bfloat16},
        "fp16": {"enabled": dtype == torch.float16, "loss_scale": 0, "initial_scale_power": 16},
        "optimizer": {"type": "AdamW", "params": {"lr": 1e-3, "weight_decay": 0.01, "torch_adam": True,
                                                   "adam_w_mode": True}},
        "zero_optimization": {"stage": stage, "allgather_partitions": True, "allgather_bucket_size": 2e8,
                              "overlap_comm": True, "reduce_scatter": True, "reduce_bucket_size": 5e8,
                              "contiguous_gradients": True},
        "gradient_accumulation_steps": 1,
        "train_micro_batch_size_per_gpu": 1,
        "train_batch_size": 0,
        "gradient_clipping": 1.0,
        "steps_per_print": 2000,
        "wall_clock_breakdown": False,
    }


def zero_file_prefix(run):
    # engine _get_zero_ckpt_prefix (line 2801) / _get_zero_ckpt_name (line 2813):
    # "bf16_" when bf16 is enabled, whatever the stage
    return ("bf16_" if run.dtype == torch.bfloat16 else "") + "zero_pp_rank_"


def model_states(run, module, param_shapes, frozen_shapes, frozen_fragments, dp_world_size):
    """engine _save_checkpoint (lines 3453-3494): the dict every model-states file holds, in its order.
    The accelerate trainers pass no client_state."""
    return dict(
        module=module,
        buffer_names=[],  # engine _get_buffer_names (line 3496): the transformer has no persistent buffer
        optimizer=None,  # ZeRO: the optimizer goes to the zero files
        param_shapes=param_shapes,
        frozen_param_shapes=frozen_shapes,
        shared_params={},  # engine _get_shared_params (line 3578): no tied parameters here
        frozen_param_fragments=frozen_fragments,
        lr_scheduler={"last_batch_iteration": run.steps - 1},  # deepspeed/runtime/lr_schedules.py state_dict
        data_sampler=None,
        random_ltd=None,
        sparse_tensor_module_names=set(),
        skipped_steps=0,
        global_steps=run.steps,
        global_samples=run.steps * dp_world_size,
        dp_world_size=dp_world_size,
        mp_world_size=1,
        ds_config=run.ds_config,
        ds_version=DS_VERSION,
    )


def write_stage2(run, folder, tag):
    """ZeRO-1/2 (stage12 DeepSpeedZeroOptimizer). Returns {name: 16-bit module tensor}."""
    dp = run.dp
    align = 2 * dp  # stage12 line 277 nccl_start_alignment_factor = 2, line 356: flat aligned to 2 * dp
    flats16, layout = [], []
    for gi in run.groups:
        names = run.trainable(gi)
        tensors = [run.init16[n].reshape(-1) for n, _ in names]
        numel = sum(t.numel() for t in tensors)
        pad = (align - numel % align) % align  # deepspeed/runtime/utils.py align_dense_tensors (line 940)
        flat16 = torch.cat(tensors + [torch.zeros(pad, dtype=run.dtype)])
        flats16.append(flat16)
        layout.append((names, numel))
    # get_data_parallel_partitions (line 1587): near-equal contiguous slices; the flat is a multiple of
    # dp so all are equal
    fp32_parts = [[flat.narrow(0, r * (flat.numel() // dp), flat.numel() // dp).clone().float()
                   for flat in flats16] for r in range(dp)]
    masks = []
    for r in range(dp):
        row = []
        for (names, numel), flat in zip(layout, flats16):
            size = flat.numel() // dp
            m = torch.zeros(size)
            real = max(0, min(size, numel - r * size))
            m[:real] = 1
            row.append(m)
        masks.append(row)
    opt_states = run.train(fp32_parts, masks)

    # the 16-bit module after the step: the fp32 partitions copied back into the flat buffers, the
    # module's parameters being views of them (stage12 _update_model_bit16_weights, line 643)
    module = OrderedDict()
    full16 = []
    for gi, (names, numel) in enumerate(layout):
        full = torch.cat([fp32_parts[r][gi] for r in range(dp)]).to(run.dtype)
        full16.append(full)
    views = {}
    for gi, (names, numel) in enumerate(layout):
        offset = 0
        for n, s in names:
            k = math.prod(s)
            views[n] = full16[gi].narrow(0, offset, k).view(s)
            offset += k
    frozen = run.frozen()
    for n, s, t, g in run.params:
        module[n] = views[n] if t else run.init16[n]
    param_shapes = [OrderedDict((n, torch.Size(s)) for n, s in names) for names, _ in layout]
    frozen_shapes = OrderedDict((n, torch.Size(s)) for n, s in frozen)
    # engine _get_param_fragment_func (line 3520): param.detach().cpu() for non-ZeRO-3 params
    frozen_fragments = OrderedDict((n, run.init16[n].detach().clone()) for n, _ in frozen)
    tagdir = os.path.join(folder, tag)
    # only data-parallel rank 0 writes the model states (engine _get_ckpt_name line 2819: mp_rank_00)
    save(model_states(run, module, param_shapes, frozen_shapes, frozen_fragments, dp),
         os.path.join(tagdir, "mp_rank_00_model_states.pt"), gpu="cuda:0",
         cpu_tensors=list(frozen_fragments.values()))

    for r in range(dp):
        paddings, lean, mappings = [], [], []
        for gi, (names, numel) in enumerate(layout):
            size = flats16[gi].numel() // dp
            left = r * size
            # stage12 lines 381-390: padding recorded for the partition(s) past the real elements
            if numel <= left:
                padding = size
            elif numel < left + size:
                padding = left + size - numel
            else:
                padding = 0
            paddings.append(padding)
            # stage12 _get_groups_without_padding (line 2113): a view, the storage keeps the padding
            lean.append(fp32_parts[r][gi][:size - padding])
            # stage12 _create_param_mapping (line 574) + tensor_fragment.get_hp_fragment_mapping (line 312)
            m = OrderedDict()
            offset = 0
            for n, s in names:
                k = math.prod(s)
                start, end = max(offset, left), min(offset + k, left + size)
                if start < end:
                    m[n] = fragment_address(numel=end - start, start=start - left)
                offset += k
            mappings.append(m)
        # stage12 state_dict (lines 2144-2184), in its key order; elastic_checkpoint is False by
        # default (deepspeed/runtime/zero/config.py line 147), so the base optimizer state is whole
        osd = OrderedDict()
        osd["loss_scaler"] = run.loss_scaler()
        osd["dynamic_loss_scale"] = run.dtype == torch.float16
        osd["overflow"] = False
        osd["clip_grad"] = 1.0
        osd["base_optimizer_state"] = opt_states[r]
        osd["single_partition_of_fp32_groups"] = lean
        osd["zero_stage"] = ZeroStageEnum.gradients
        osd["group_paddings"] = paddings
        osd["partition_count"] = [dp] * len(layout)  # stage12 line 201: a list, one per group
        osd["ds_version"] = DS_VERSION
        osd["param_slice_mappings"] = mappings
        # engine _save_zero_checkpoint (line 3637)
        zero_sd = dict(optimizer_state_dict=osd, ds_config=run.ds_config, ds_version=DS_VERSION)
        save(zero_sd, os.path.join(tagdir, "%s%d_mp_rank_00_optim_states.pt" % (zero_file_prefix(run), r)),
             gpu="cuda:%d" % r)
    return module


def write_stage3(run, folder, tag):
    """ZeRO-3 (stage3 DeepSpeedZeroOptimizer_Stage3): every rank writes model states (placeholders)
    and optimizer states (fp32_flat_groups)."""
    dp = run.dp
    garbage = torch.Generator().manual_seed(run.seed + 1000)

    def partitions(tensor16):
        # partition _partition_param (lines 1589-1645): ceil(numel/dp) per rank, the last rank's tail
        # is torch.empty, i.e. whatever the allocator held: random 16-bit values here
        n = tensor16.numel()
        size = (n + dp - 1) // dp
        flat = tensor16.reshape(-1)
        out = []
        for r in range(dp):
            part = (torch.randn(size, generator=garbage) * 7).to(run.dtype)
            real = max(0, min(size, n - r * size))
            part[:real] = flat[r * size:r * size + real]
            out.append(part)
        return out, size

    layout = []
    lp_flat = [[] for _ in range(dp)]
    masks = [[] for _ in range(dp)]
    for gi in run.groups:
        names = run.trainable(gi)
        per_rank = [[] for _ in range(dp)]
        mrank = [[] for _ in range(dp)]
        for n, s in names:
            parts, size = partitions(run.init16[n])
            k = math.prod(s)
            for r in range(dp):
                per_rank[r].append(parts[r])
                m = torch.zeros(size)
                m[:max(0, min(size, k - r * size))] = 1
                mrank[r].append(m)
        layout.append(names)
        for r in range(dp):
            # stage3 _create_fp16_partitions_with_defragmentation (line 703): one sub-group per group
            # (sub_group_size 1e9 > these groups), partitions concatenated, no further padding
            lp_flat[r].append(torch.cat(per_rank[r]))
            masks[r].append(torch.cat(mrank[r]))
    # stage3 _create_fp32_partitions (line 832): fp32 copies of the 16-bit flat partitions
    fp32_flat = [[t.float() for t in lp_flat[r]] for r in range(dp)]
    opt_states = run.train(fp32_flat, masks)

    frozen = run.frozen()
    frozen_parts = OrderedDict((n, partitions(run.init16[n])[0]) for n, _ in frozen)
    param_shapes = [OrderedDict((n, torch.Size(s)) for n, s in names) for names in layout]
    frozen_shapes = OrderedDict((n, torch.Size(s)) for n, s in frozen)
    tagdir = os.path.join(folder, tag)
    for r in range(dp):
        # partition free_param (line 291): param.data = torch.empty(0, dtype=param.dtype)
        module = OrderedDict((n, torch.empty(0, dtype=run.dtype)) for n, _, _, _ in run.params)
        # engine _get_param_fragment_func (line 3520): param.ds_tensor.detach().cpu()
        fragments = OrderedDict((n, parts[r].detach().clone()) for n, parts in frozen_parts.items())
        state = model_states(run, module, param_shapes, frozen_shapes, fragments, dp)
        # engine _get_ckpt_name (lines 2827-2835): zero_pp_rank_<dp rank>_mp_rank_00_model_states.pt
        save(state, os.path.join(tagdir, "zero_pp_rank_%d_mp_rank_00_model_states.pt" % r),
             gpu="cuda:%d" % r, cpu_tensors=list(fragments.values()))
        # stage3 _rigid_state_dict (lines 2548-2561), in its key order
        osd = OrderedDict()
        osd["zero_stage"] = ZeroStageEnum.weights
        osd["loss_scaler"] = run.loss_scaler()
        osd["dynamic_loss_scale"] = run.dtype == torch.float16
        osd["overflow"] = False
        osd["partition_count"] = dp  # stage3 line 290: an int
        osd["optimizer_state_dict"] = opt_states[r]
        osd["fp32_flat_groups"] = fp32_flat[r]
        zero_sd = dict(optimizer_state_dict=osd, ds_config=run.ds_config, ds_version=DS_VERSION)
        save(zero_sd, os.path.join(tagdir, "%s%d_mp_rank_00_optim_states.pt" % (zero_file_prefix(run), r)),
             gpu="cuda:%d" % r)


def _enum_by_value(self, proto):
    return self.__class__, (self._value_,)


def write_run(run, folder, tag):
    """engine save_checkpoint (lines 3218-3317): the tag folder, then `latest` naming it.
    Early Python 3.11 (Debian 12's 3.11.2) pickles an enum member as getattr(ZeroStageEnum,
    'gradients'); Python <= 3.10 and later versions as ZeroStageEnum(2): enum_by_value writes the
    latter on any Python."""
    if run.enum_by_value:
        ZeroStageEnum.__reduce_ex__ = _enum_by_value
    try:
        module = write_stage2(run, folder, tag) if run.stage <= 2 else write_stage3(run, folder, tag)
    finally:
        if run.enum_by_value:
            del ZeroStageEnum.__reduce_ex__
    with open(os.path.join(folder, "latest"), "w") as fd:
        fd.write(tag)
    return module
