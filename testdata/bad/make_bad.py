#!/usr/bin/python3
"""Writes the corpus of broken and hostile inputs in this folder (testdata/bad/).

Run with Debian's python3 (real torch 1.13): /usr/bin/python3 testdata/bad/make_bad.py
The output is deterministic (but for not-a-zip-legacy-torch.pt: torch's legacy format records
object ids; any run's copy is an equally good case); the files are committed. Every file must be refused by
`sat2diffusers inspect` and `convert` (and `verify`, for the safetensors ones) with a one-line
error naming the file and the problem, a non-zero exit code and no commit marker.
MANIFEST.txt lists each file with what is wrong with it.

Nothing here is ever executed by the converter: the hostile pickles name os.system, builtins.eval,
... as globals; the pickle module writes them by name without calling them.
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "model.diffusion_model.mixins.patch_embed.proj.weight"
MANIFEST = []


def out(name, data, why):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    MANIFEST.append((name, why))


def base_checkpoint():
    """A small valid SAT-style checkpoint (DeepSpeed wrapper, two fp16 tensors)."""
    g = torch.Generator().manual_seed(7)
    sd = collections.OrderedDict()
    sd[KEY] = torch.randn(8, 4, generator=g).half()
    sd["model.diffusion_model.mixins.patch_embed.proj.bias"] = torch.randn(8, generator=g).half()
    buf = io.BytesIO()
    torch.save({"module": sd, "iteration": 1}, buf)
    return buf.getvalue()


# -- hand-made torch pickles: objects that pickle as the torch globals, without torch's checks ------

class Storage:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel


class Tensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class Call:
    """Pickles as a call of any global: what a hostile file does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def torch_zip(pkl, storages, top="archive", extra_entries=(), compress=()):
    """A torch.save-shaped zip: top/data.pkl, top/data/<key> for each storage, top/version."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        def add(name, data):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            z.writestr(info, data)
        add(top + "/data.pkl", pkl)
        for key, data in storages.items():
            add(top + "/data/" + key, data)
        add(top + "/version", b"3\n")
        for name, data in extra_entries:
            add(name, data)
    return buf.getvalue()


def one_tensor(size, stride, numel, data, cls=torch.HalfStorage, offset=0):
    t = Tensor(Storage(cls, "0", numel), offset, size, stride)
    return torch_zip(torch_pickle({"module": collections.OrderedDict([(KEY, t)])}), {"0": data})


def flip(data, at, mask=0xFF):
    b = bytearray(data)
    b[at] ^= mask
    return bytes(b)


def zip_layout(data):
    """(central directory offset, end record offset, {entry name: (local header offset, data offset, size)})."""
    eocd = data.rindex(b"PK\x05\x06")
    cd = struct.unpack_from("<I", data, eocd + 16)[0]
    entries = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for i in z.infolist():
            name_len, extra_len = struct.unpack_from("<HH", data, i.header_offset + 26)
            entries[i.filename] = (i.header_offset, i.header_offset + 30 + name_len + extra_len, i.file_size)
    return cd, eocd, entries


def torch_cases():
    base = base_checkpoint()
    cd, eocd, entries = zip_layout(base)
    pkl_name = next(n for n in entries if n.endswith("/data.pkl"))
    _, pkl_at, pkl_size = entries[pkl_name]

    for at in sorted({0, 1, 4, 29, 100, pkl_at + pkl_size // 2, len(base) // 2, cd - 1, cd + 50, eocd - 1,
                      eocd + 10, len(base) - 1}):
        out("truncated-at-%d.pt" % at, base[:at], "the valid checkpoint cut after %d of %d bytes" % (at, len(base)))

    out("flip-central-signature.pt", flip(base, cd), "first central directory signature byte flipped")
    out("flip-central-name-length.pt", flip(base, cd + 28, 0x40), "a central entry's name length changed")
    out("flip-central-local-offset.pt", flip(base, cd + 43, 0x02), "the first central entry's local header offset changed")
    out("flip-eocd-directory-offset.pt", flip(base, eocd + 17, 0x01), "the end record's directory offset changed")
    out("flip-eocd-entry-count.pt", flip(base, eocd + 10, 0x07), "the end record's entry count changed")
    for i, frac in enumerate((0.1, 0.5, 0.9)):
        at = pkl_at + int(pkl_size * frac)
        out("flip-data-pkl-%d.pt" % i, flip(base, at), "data.pkl byte %d of %d flipped (CRC-32 mismatch)"
            % (at - pkl_at, pkl_size))

    # code-running globals, inside the state dict (an error) and as the state dict itself
    out("pickle-os-system.pt", torch_zip(torch_pickle({"module": collections.OrderedDict(
        [(KEY, Call(os.system, "touch /tmp/sat2diffusers-pwned"))])}), {}),
        "a state dict value is os.system('touch /tmp/sat2diffusers-pwned')")
    out("pickle-builtins-eval.pt", torch_zip(torch_pickle({"module": Call(eval, "__import__('os').system('id')")}), {}),
        "the state dict is builtins.eval(...)")
    out("pickle-builtins-exec-key.pt", torch_zip(torch_pickle({"module": collections.OrderedDict(
        [(Call(exec, "import os"), 1)])}), {}), "a state dict key is builtins.exec(...)")
    out("pickle-getattr-chain.pt", torch_zip(torch_pickle({"module": collections.OrderedDict(
        [(KEY, Call(getattr, Call(__import__, "os"), "system"))])}), {}),
        "getattr(__import__('os'), 'system') inside the state dict")
    out("pickle-protocol0-posix-system.pt", torch_zip(
        b"(dp0\nVmodule\np1\n(dp2\nV" + KEY.encode() + b"\np3\ncposix\nsystem\np4\n(Vid\np5\ntp6\nRp7\nss.", {}),
        "a protocol-0 pickle calling posix.system inside the state dict")

    # torch.storage._load_from_bytes(b) runs torch.load(BytesIO(b)): a second, unrestricted unpickle
    # (what plain pickle makes of a storage). Hostile outside the state dict too, where other
    # unknown objects are kept as inert data.
    nested = pickle.dumps(Call(os.system, "touch /tmp/sat2diffusers-pwned"), protocol=2)
    good = Tensor(Storage(torch.HalfStorage, "0", 32), 0, [8, 4], [4, 1])
    out("pickle-load-from-bytes-optimizer.pt", torch_zip(torch_pickle({
        "module": collections.OrderedDict([(KEY, good)]),
        "optimizer": Call(torch.storage._load_from_bytes, nested)}), {"0": b"\0" * 64}),
        "beside a valid state dict, the optimizer state is torch.storage._load_from_bytes(a pickle calling os.system)")
    out("pickle-load-from-bytes-value.pt", torch_zip(torch_pickle({"module": collections.OrderedDict(
        [(KEY, Call(torch.storage._load_from_bytes, nested))])}), {}),
        "a state dict value is torch.storage._load_from_bytes(a pickle calling os.system)")

    # lying tensors and storages
    out("billion-element-tensor.pt", one_tensor([1000000000], [1], 1000000000, b"\0" * 16),
        "a tensor of 10^9 fp16 elements over a storage entry of 16 bytes")
    out("huge-shape-overflow.pt", one_tensor([1 << 40, 1 << 40], [1 << 40, 1], 4, b"\0" * 8),
        "shape 2^40 x 2^40: numel overflows 64 bits")
    out("storage-too-small.pt", one_tensor([64, 64], [64, 1], 16, b"\0" * 32),
        "a 64x64 tensor over a storage of 16 elements")
    out("negative-dimension.pt", one_tensor([-4, 4], [4, 1], 16, b"\0" * 32), "a shape with a negative dimension")
    out("negative-offset.pt", one_tensor([4], [1], 16, b"\0" * 32, offset=-8), "a negative storage offset")
    out("storage-size-mismatch.pt", one_tensor([4], [1], 16, b"\0" * 10),
        "a HalfStorage of 16 elements whose entry holds 10 bytes")
    t = Tensor(Storage(torch.HalfStorage, "7", 4), 0, [4], [1])
    out("missing-storage-entry.pt", torch_zip(torch_pickle({"module": collections.OrderedDict([(KEY, t)])}),
        {"0": b"\0" * 8}), "a tensor whose storage data/7 is not in the archive")

    # pickle bombs
    out("pickle-deep-nesting.pt", torch_zip(b"\x80\x02" + b"(" * 5000 + b"}" + b"." , {}),
        "5000 nested MARKs")
    out("pickle-memo-index-huge.pt", torch_zip(b"\x80\x02}r\xff\xff\xff\x7fh\x00.", {}),
        "LONG_BINPUT at memo index 2^31-1")
    out("pickle-unicode-length-lie.pt", torch_zip(b"\x80\x02X\xff\xff\xff\x7fabc.", {}),
        "BINUNICODE claiming 2^31-1 bytes in a 12-byte pickle")
    out("pickle-long4-huge.pt", torch_zip(b"\x80\x02\x8b\x00\x00\x00\x10" + b"\x01" * 16 + b".", {}),
        "LONG4 claiming a 256 MiB integer")
    out("pickle-not-a-dict.pt", torch_zip(torch_pickle([1, 2, 3]), {}), "data.pkl holds a list, not a state dict")

    # zip structure lies
    out("zip-dotdot-entry.pt", torch_zip(torch_pickle({"module": {}}), {}, top="archive/../..") ,
        "entries named archive/../../data.pkl")
    two_tops = torch_zip(torch_pickle({"module": {}}), {}, extra_entries=[("other/data.pkl", b"x")])
    out("zip-two-top-folders.pt", two_tops, "entries under two top folders")
    dup = torch_zip(torch_pickle({"module": {}}), {}, extra_entries=[("archive/version", b"3\n")])
    out("zip-duplicate-entry.pt", dup, "archive/version appears twice")
    out("zip-compressed-tensor.pt", torch_zip(torch_pickle({"module": collections.OrderedDict(
        [(KEY, Tensor(Storage(torch.HalfStorage, "0", 32), 0, [8, 4], [4, 1]))])}), {"0": b"\0" * 64},
        compress=("archive/data/0",)), "a tensor entry DEFLATE-compressed instead of STORED")
    out("zip-entry-past-end.pt", zip64_size_lie(base, entries, cd, 1 << 40, zip64=False),
        "a central entry's size (and its local one) claims 2^40 bytes")
    out("zip64-size-lie.pt", zip64_size_lie(base, entries, cd, 1 << 62, zip64=True),
        "a ZIP64 extra field claims an entry of 2^62 bytes")
    out("zip64-locator-lie.pt", zip64_locator_lie(base, eocd), "a ZIP64 locator pointing past the end of the file")
    out("zip-overlapping-entries.pt", overlapping(base, entries, cd),
        "two central entries pointing at the same local header")
    out("not-a-zip-legacy-torch.pt", legacy_torch(), "torch's legacy (pre-1.6, non-zip) format")
    out("empty.pt", b"", "an empty file")


def zip64_size_lie(base, entries, cd, size, zip64):
    """Rewrites the data.pkl central entry's compressed and uncompressed size."""
    b = bytearray(base)
    pkl = next(n for n in entries if n.endswith("/data.pkl"))
    at = cd
    while True:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", b, at + 28)
        name = bytes(b[at + 46:at + 46 + name_len]).decode()
        if name == pkl:
            break
        at += 46 + name_len + extra_len + comment_len
    if not zip64:
        struct.pack_into("<II", b, at + 20, size & 0xFFFFFFFF or 0xFFFFFFFE, size & 0xFFFFFFFF or 0xFFFFFFFE)
        return bytes(b)
    # saturate both sizes and splice a ZIP64 extra field (replacing the entry's own extra field)
    extra = struct.pack("<HHQQ", 1, 16, size, size)
    struct.pack_into("<II", b, at + 20, 0xFFFFFFFF, 0xFFFFFFFF)
    struct.pack_into("<H", b, at + 30, len(extra))
    head = bytes(b[:at + 46 + name_len])
    tail = bytes(b[at + 46 + name_len + extra_len:])
    delta = len(extra) - extra_len
    b = bytearray(head + extra + tail)
    # the directory grew: fix the sizes and offsets of the end records (torch writes ZIP64 ones too)
    eocd = b.rindex(b"PK\x05\x06")
    struct.pack_into("<I", b, eocd + 12, struct.unpack_from("<I", b, eocd + 12)[0] + delta)
    locator = b.rindex(b"PK\x06\x07")
    struct.pack_into("<Q", b, locator + 8, struct.unpack_from("<Q", b, locator + 8)[0] + delta)
    record = b.rindex(b"PK\x06\x06")
    struct.pack_into("<Q", b, record + 40, struct.unpack_from("<Q", b, record + 40)[0] + delta)
    return bytes(b)


def zip64_locator_lie(base, eocd):
    """Inserts a ZIP64 end-of-central-directory locator, pointing at offset 2^50, before the end record."""
    locator = struct.pack("<IIQI", 0x07064b50, 0, 1 << 50, 1)
    b = bytearray(base[:eocd] + locator + base[eocd:])
    e = len(b) - 22
    struct.pack_into("<HHII", b, e + 8, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return bytes(b)


def overlapping(base, entries, cd):
    """Points the second central entry at the first entry's local header."""
    b = bytearray(base)
    first_offset = struct.unpack_from("<I", b, cd + 42)[0]
    name_len, extra_len, comment_len = struct.unpack_from("<HHH", b, cd + 28)
    second = cd + 46 + name_len + extra_len + comment_len
    struct.pack_into("<I", b, second + 42, first_offset)
    return bytes(b)


def legacy_torch():
    buf = io.BytesIO()
    torch.save({"module": {KEY: torch.zeros(2, 2).half()}}, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


# -- safetensors -------------------------------------------------------------------------------------

def safetensors(header, data, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def st_cases():
    good = {"a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}, "__metadata__": {"format": "pt"}}
    data = bytes(range(16))
    out("st-header-2pow60.safetensors", struct.pack("<Q", 1 << 60) + b"{}      ",
        "a header length of 2^60 bytes")
    out("st-header-past-end.safetensors", struct.pack("<Q", 4096) + b'{"a":1}  ',
        "a header length of 4096 in a 17-byte file")
    out("st-header-truncated-json.safetensors", safetensors(None, data, raw_header=b'{"a":{"dtype":"F16","sha'),
        "the header JSON stops mid-object")
    out("st-header-deep-nesting.safetensors", safetensors(None, b"", raw_header=b"[" * 20000 + b"]" * 20000),
        "a header of 20000 nested JSON arrays")
    out("st-offsets-past-end.safetensors", safetensors(dict(good, b={"dtype": "F32", "shape": [2],
        "data_offsets": [8, 1 << 60]}), data), "a tensor whose data ends 2^60 bytes into the data section")
    out("st-overlapping.safetensors", safetensors(dict(good, b={"dtype": "F16", "shape": [2, 2],
        "data_offsets": [0, 8]}), data), "two tensors sharing bytes 0..8")
    out("st-shape-mismatch.safetensors", safetensors(dict(good, a={"dtype": "F16", "shape": [3, 3],
        "data_offsets": [0, 8]}), data), "F16 [3, 3] over 8 bytes")
    out("st-shape-overflow.safetensors", safetensors(dict(good, a={"dtype": "F16", "shape": [1 << 62, 1 << 62],
        "data_offsets": [0, 8]}), data), "shape 2^62 x 2^62")
    out("st-unknown-dtype.safetensors", safetensors(dict(good, a={"dtype": "F128", "shape": [2, 2],
        "data_offsets": [0, 8]}), data), "dtype F128")
    out("st-truncated-data.safetensors", safetensors(good, data)[:-5], "the data section is 5 bytes short")
    out("st-gap.safetensors", safetensors(dict(good, b={"dtype": "F32", "shape": [1],
        "data_offsets": [12, 16]}), data), "bytes 8..12 belong to no tensor")


def main():
    for f in os.listdir(HERE):
        if f != "make_bad.py":
            os.remove(os.path.join(HERE, f))
    torch_cases()
    st_cases()
    with open(os.path.join(HERE, "MANIFEST.txt"), "w") as m:
        for name, why in MANIFEST:
            m.write("%s\t%s\n" % (name, why))


if __name__ == "__main__":
    main()
