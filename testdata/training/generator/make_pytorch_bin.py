"""The DDP trainer checkpoint again, saved with safe serialization off: accelerate's
save_state(..., safe_serialization=False) writes the same state dict (the DDP wrapper's keys,
'module.<name>') with torch.save as pytorch_model.bin (accelerate checkpointing.py save_accelerator_state,
WEIGHTS_NAME). Made from trainer/cogvideox-t2v-sft-ddp/checkpoint-3/model.safetensors, tensor for
tensor, so its expectation is that checkpoint's (expected/trainer/cogvideox-t2v-sft-ddp/checkpoint-3.model.json).
Runs with the host's torch 1.13 (zip serialization); byte-identical on re-runs.

    /usr/bin/python3 testdata/training/generator/make_pytorch_bin.py testdata
"""
import json
import os
import struct
import sys
from collections import OrderedDict

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = t.clone()
    return OrderedDict(sorted(tensors.items(), key=lambda kv: header[kv[0]]["data_offsets"][0]))


def main(testdata):
    training = os.path.join(testdata, "training")
    source = os.path.join(training, "trainer", "cogvideox-t2v-sft-ddp", "checkpoint-3", "model.safetensors")
    folder = os.path.join(training, "trainer", "cogvideox-t2v-sft-ddp-bin", "checkpoint-3")
    os.makedirs(folder, exist_ok=True)
    state = read_safetensors(source)
    target = os.path.join(folder, "pytorch_model.bin")
    torch.save(state, target)
    back = torch.load(target, map_location="cpu")
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state)
    print("%s: %d tensors" % (target, len(state)))


if __name__ == "__main__":
    main(sys.argv[1])
