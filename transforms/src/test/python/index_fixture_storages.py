#!/usr/bin/python3
"""Writes, for each SAT fixture checkpoint, where each tensor's storage lies in the .pt file.

usage: /usr/bin/python3 index_fixture_storages.py TESTDATA_DIR OUT_DIR

The transforms tests plan conversions of the real fixture files without the torch reader (another
module's job): the source json under testdata/expected/source gives dtype, shape, stride and storage
offset; this gives, per tensor key, [storage key, absolute file offset of the storage's first byte,
storage bytes]. data.pkl is read with an unpickler that records storages and tensor rebuilds instead
of loading any tensor data.
"""
import io
import json
import os
import pickle
import struct
import sys
import zipfile


class StorageRecorder(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return lambda storage, offset, size, stride, *rest: {"storage": storage}
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, *rest: data
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return pid[2]  # ("storage", storage class, key, location, numel)


def index(pt):
    with zipfile.ZipFile(pt) as zf, open(pt, "rb") as raw:
        top = zf.namelist()[0].split("/")[0]
        obj = StorageRecorder(io.BytesIO(zf.read(f"{top}/data.pkl"))).load()
        state = next(obj[w] for w in ("module", "state_dict", "model") if w in obj)
        out = {}
        for key, tensor in state.items():
            info = zf.getinfo(f"{top}/data/{tensor['storage']}")
            raw.seek(info.header_offset)
            header = raw.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            out[key] = [tensor["storage"], info.header_offset + 30 + name_len + extra_len, info.file_size]
        return out


def main(testdata, out_dir):
    sat = os.path.join(testdata, "sat")
    for root, _, files in sorted(os.walk(sat)):
        for f in sorted(files):
            if f.endswith(".pt"):
                rel = os.path.relpath(os.path.join(root, f), sat)
                target = os.path.join(out_dir, rel[: -len(".pt")] + ".json")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                entries = index(os.path.join(root, f))
                with open(target, "w") as o:
                    o.write("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in entries.items()) + "\n}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
