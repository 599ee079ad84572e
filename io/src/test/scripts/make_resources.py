"""Makes the test resources of the io module's zip, pickle and torch readers.

Run with Debian's torch 1.13:  /usr/bin/python3 io/src/test/scripts/make_resources.py
Writes under io/src/test/resources/org/sat2diffusers/io/{zip,pickle,torch}/. Deterministic: fixed
seeds, fixed zip timestamps. The .json files describe tensors as torch itself reads them, in the
format of testdata/expected/source.
"""
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import torch

RESOURCES = Path(__file__).resolve().parent.parent / "resources" / "org" / "sat2diffusers" / "io"
DTYPES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
          torch.uint8: "U8", torch.bool: "BOOL"}
# the command the hostile pickles would run; the Java test asserts this file never appears
MARKER = "/tmp/sat2diffusers-pickle-was-executed"


def describe(path, wrapper, state_dict):
    """What torch reads: per tensor dtype, shape, stride, offset, shared storage, sha256 of its elements."""
    tensors, first_by_storage = {}, {}
    for key, t in state_dict.items():
        entry = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "stride": list(t.stride()),
                 "storage_offset": t.storage_offset(),
                 "sha256": hashlib.sha256(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                                          if t.numel() else b"").hexdigest()}
        ptr = t.storage().data_ptr()
        if ptr in first_by_storage:
            entry["shares_storage_with"] = first_by_storage[ptr]
        else:
            first_by_storage[ptr] = key
        tensors[key] = entry
    path.with_suffix(".json").write_text(json.dumps({"wrapper": wrapper, "tensors": tensors}, indent=1) + "\n")


def views():
    """Real torch.save output with strided views, offsets, shared storages and every dtype."""
    torch.manual_seed(7)
    base = torch.randn(6, 8, dtype=torch.float32)
    qkv = torch.randn(12, 4).to(torch.bfloat16)
    sd = collections.OrderedDict()
    sd["base"] = base
    sd["transposed"] = base.t()                       # column-major view of base
    sd["rows"] = base[2:5]                             # contiguous, storage offset 16
    sd["columns"] = base[:, 3:6]                       # 6 row ranges
    sd["every_other_row"] = base[::2, 1:7]             # gaps between rows
    sd["qkv.k"] = qkv[4:8]                             # a split of a fused weight
    sd["expanded"] = torch.arange(3, dtype=torch.int16).view(3, 1).expand(3, 5)  # stride 0
    sd["scalar"] = torch.tensor(2.5, dtype=torch.float64)
    sd["empty"] = torch.zeros(0, 4, dtype=torch.float16)
    sd["flags"] = torch.tensor([True, False, True])
    sd["ids"] = torch.arange(5, dtype=torch.int64)
    sd["i32"] = torch.arange(4, dtype=torch.int32).view(2, 2)
    sd["i8"] = torch.tensor([-1, 2, -3], dtype=torch.int8)
    sd["u8"] = torch.tensor([250, 7], dtype=torch.uint8)
    sd["half"] = torch.randn(3, 2).half()
    path = RESOURCES / "torch" / "views.pt"
    torch.save({"model": sd, "epoch": 3}, path)
    describe(path, "model", sd)
    # a checkpoint that is the state dict itself
    bare = collections.OrderedDict(weight=torch.randn(2, 3), bias=torch.randn(2))
    path = RESOURCES / "torch" / "bare_state_dict.pt"
    torch.save(bare, path)
    describe(path, None, bare)


class RunsCommand:
    """Pickles as a call to os.system: torch.load would run the command."""

    def __reduce__(self):
        return os.system, ("touch " + MARKER,)


def hostile():
    path = RESOURCES / "torch" / "os_system.pt"
    torch.save({"module": {"w": torch.ones(2)}, "args": RunsCommand()}, path)
    (RESOURCES / "pickle" / "os_system.pkl").write_bytes(pickle.dumps(RunsCommand(), protocol=2))
    # a harmless global, but not one a state dict may hold
    torch.save({"state_dict": {"w": torch.ones(2), "counts": collections.Counter(a=1)}},
               RESOURCES / "torch" / "counter_in_state_dict.pt")


class Storage:
    """Stands for a torch storage in hand-made data.pkl files: pickled as its persistent id."""

    def __init__(self, key, cls, numel):
        self.key, self.cls, self.numel = key, cls, numel


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def archive(name, state_dict, storages, top="archive", extra_entries=(), method=zipfile.ZIP_STORED):
    """A torch-layout zip with a hand-made data.pkl, to make checkpoints torch.save cannot."""
    buffer = io.BytesIO()
    TorchPickler(buffer, protocol=2).dump({"module": state_dict})
    path = RESOURCES / "torch" / name
    with zipfile.ZipFile(path, "w") as zf:
        def write(entry, data, compress=zipfile.ZIP_STORED):
            info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compress
            zf.writestr(info, data)
        write(f"{top}/data.pkl", buffer.getvalue())
        for key, data in storages.items():
            write(f"{top}/data/{key}", data, method)
        write(f"{top}/version", b"3\n")
        for entry, data in extra_entries:
            write(entry, data)


def malformed():
    half4 = struct.pack("<4e", 1, 2, 3, 4)
    s0 = Storage("0", torch.HalfStorage, 4)
    archive("storage_too_small.pt", {"w": Tensor(s0, 1, (2, 2), (2, 1))}, {"0": half4})
    archive("missing_storage_entry.pt", {"w": Tensor(s0, 0, (4,), (1,))}, {})
    archive("storage_size_mismatch.pt", {"w": Tensor(s0, 0, (4,), (1,))}, {"0": half4[:6]})
    archive("compressed_entry.pt", {"w": Tensor(s0, 0, (4,), (1,))}, {"0": half4 * 64},
            method=zipfile.ZIP_DEFLATED)
    archive("dotdot_entry.pt", {"w": Tensor(s0, 0, (4,), (1,))}, {"0": half4},
            extra_entries=[("archive/../evil", b"x")])
    archive("outside_top_folder.pt", {"w": Tensor(s0, 0, (4,), (1,))}, {"0": half4},
            extra_entries=[("other/file", b"x")])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate, which is the point
        archive("duplicate_entry.pt", {"w": Tensor(s0, 0, (4,), (1,))}, {"0": half4},
                extra_entries=[("archive/data/0", half4)])


def zip64():
    """A real torch.save archive rewritten with every ZIP64 record (python's zipfile only adds
    them past 4 GiB): ZIP64 extra fields in local and central headers, the ZIP64 end record and
    its locator. Data stays 64-byte aligned, as torch writes it."""
    torch.manual_seed(3)
    sd = collections.OrderedDict(a=torch.randn(4, 5).half(), b=torch.arange(7, dtype=torch.int64))
    sd["a_view"] = sd["a"][1:3, 2:]
    plain = io.BytesIO()
    torch.save({"module": sd}, plain)
    with zipfile.ZipFile(plain) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in entries:
        raw = name.encode()
        crc = zlib.crc32(data)
        offset = len(out)
        zip64_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        pad = -(offset + 30 + len(raw) + len(zip64_extra) + 4) % 64
        padding = struct.pack("<HH", 0xCAFE, pad) + b"Z" * pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(raw), len(zip64_extra) + len(padding)) + raw + zip64_extra + padding
        assert len(out) % 64 == 0
        out += data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(extra), 0, 0, 0, 0,
                               0xFFFFFFFF) + raw + extra
    cd_offset = len(out)
    out += central
    zip64_end = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path = RESOURCES / "zip" / "zip64.pt"
    path.write_bytes(bytes(out))
    with zipfile.ZipFile(path) as zf:  # both zip readers accept it
        assert zf.testzip() is None
    loaded = torch.load(path)["module"]
    assert all(torch.equal(loaded[k], sd[k]) for k in sd)
    describe(path, "module", sd)


if __name__ == "__main__":
    for folder in ("zip", "pickle", "torch"):
        (RESOURCES / folder).mkdir(parents=True, exist_ok=True)
    views()
    hostile()
    malformed()
    zip64()
    assert not os.path.exists(MARKER)
