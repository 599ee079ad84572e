"""Real-torch check of TorchCheckpointWriter (run with Debian's python3-torch 1.13: /usr/bin/python3).

  torch_writer_check.py reference OUT.pt   writes, with torch.save, the checkpoint WriterSamples.mixed()
                                           describes (the test resource torch/writer/reference.pt)
  torch_writer_check.py check DIR          loads the files TorchCheckpointWriterTest wrote to DIR
                                           (io/target/torch-writer-samples) with torch.load, with and
                                           without weights_only, compares every tensor to what it must
                                           hold, compares the pickle and the zip layout to what torch.save
                                           writes for the same objects, and re-saves each with torch

Nothing here runs in mvn verify; the unit tests compare against reference.pt instead.
"""
import collections
import io
import os
import struct
import sys
import tempfile
import zipfile

import torch


def bits(values, dtype):
    return torch.tensor([v - 0x10000 if v >= 0x8000 else v for v in values], dtype=torch.int16).view(dtype).clone()


def mixed():
    sd = collections.OrderedDict()
    f32 = torch.tensor([-1, -0.5, 0, 0.5, 1, 1.5], dtype=torch.float32).reshape(2, 3)
    sd['f32'] = f32
    sd['f32.t'] = f32.t()
    sd['bf16'] = bits([0x3f80, 0xc000, 0x7fc0, 0x0001], torch.bfloat16)
    sd['f16'] = bits([0x3c00, 0xc000, 0x7bff, 0x0001], torch.float16).reshape(2, 2)
    sd['i64'] = torch.tensor([-1, 0, 1 << 40, -2**63], dtype=torch.int64)
    sd['bool'] = torch.tensor([True, False, True, True, False])
    sd['scalar'] = torch.tensor(3.25, dtype=torch.float64)
    sd['empty'] = torch.zeros(0, dtype=torch.bfloat16)
    tied = torch.arange(8, dtype=torch.float32).reshape(4, 2) + 0.25
    sd['shared.weight'] = tied.detach()  # as module.state_dict() gives tied weights: two tensors, one storage
    sd['encoder.embed_tokens.weight'] = tied.detach()
    sd['offset_view'] = torch.arange(10, dtype=torch.int32).as_strided((2, 2), (2, 1), 3)
    sd['u8'] = torch.tensor([0, 255, 7], dtype=torch.uint8)
    sd['i8'] = torch.tensor([-128, 127], dtype=torch.int8)
    sd['i16'] = torch.tensor([-32768, 12345], dtype=torch.int16)
    sd['i32'] = torch.tensor([-2**31, 2**31 - 1], dtype=torch.int32)
    sd['f64'] = torch.tensor([1e300, -0.0], dtype=torch.float64)
    return {'module': sd, 'iteration': 1000, 'note': 'reverse', 'flag': True, 'nothing': None}


def many(count):
    return {'module': collections.OrderedDict(('t%d' % i, torch.tensor([i % 256], dtype=torch.uint8))
                                              for i in range(count))}


def large(size):
    return {'module': collections.OrderedDict([
        ('big', torch.zeros(size, dtype=torch.uint8)),
        ('after', torch.tensor([1.5, -2.5], dtype=torch.float32))])}


TIED = [('f32', 'f32.t'), ('shared.weight', 'encoder.embed_tokens.weight')]


def raw(t):
    """A tensor's elements, row-major, as bytes (bit-exact, NaN included)."""
    flat = t.contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.dtype != torch.bool else flat.numpy().tobytes()


def compare(got, want, label):
    problems = []
    if set(got) != set(want) or list(got['module']) != list(want['module']):
        problems.append('keys differ')
    for k, v in want.items():
        if k != 'module' and (type(got.get(k)) is not type(v) or got.get(k) != v):
            problems.append('value %s: %r != %r' % (k, got.get(k), v))
    for name, w in want['module'].items():
        g = got['module'].get(name)
        if g is None:
            continue
        for what in ('dtype', 'shape'):
            if getattr(g, what) != getattr(w, what):
                problems.append('%s %s: %s != %s' % (name, what, getattr(g, what), getattr(w, what)))
        if g.stride() != w.stride() or g.storage_offset() != w.storage_offset():
            problems.append('%s view: %s+%d != %s+%d' % (name, g.stride(), g.storage_offset(), w.stride(),
                                                          w.storage_offset()))
        if raw(g) != raw(w):
            problems.append('%s: bytes differ' % name)
    for a, b in TIED:
        if a in got['module'] and got['module'][a].storage().data_ptr() != got['module'][b].storage().data_ptr():
            problems.append('%s and %s do not share a storage' % (a, b))
    print('%-40s %d tensors, %d values: %s' % (label, len(want['module']), len(want) - 1,
                                                'OK' if not problems else 'FAIL ' + '; '.join(problems[:5])))
    return not problems


def entries(path):
    """Per entry: name, flags, method, local extra ids, data offset, descriptor bytes, CRC, size."""
    with open(path, 'rb') as f:
        data = f.read()
    z = zipfile.ZipFile(path)
    out = []
    infos = z.infolist()
    starts = sorted(i.header_offset for i in infos) + [data.rfind(b'PK\x01\x02', 0, len(data)) and
                                                       min(i for i in [data.find(b'PK\x01\x02')] if i >= 0)]
    for info in infos:
        at = info.header_offset
        sig, _, flags, method, _, _, crc, _, _, nlen, xlen = struct.unpack('<IHHHHHIIIHH', data[at:at + 30])
        extra = data[at + 30 + nlen:at + 30 + nlen + xlen]
        ids, i = [], 0
        while i + 4 <= len(extra):
            fid, flen = struct.unpack('<HH', extra[i:i + 4])
            ids.append(extra[i:i + 2].decode('latin1') if fid != 1 else 'ZIP64(%d)' % flen)
            i += 4 + flen
        start = at + 30 + nlen + xlen
        nxt = min([s for s in starts if s > at] or [len(data)])
        out.append((info.filename.split('/', 1)[1], flags, method, tuple(ids), start % 64,
                    nxt - start - info.file_size, info.CRC, info.file_size))
    return out, data


def torch_bytes(obj, name):
    path = os.path.join(tempfile.mkdtemp(), name)
    torch.save(obj, path)
    return path


def check_layout(ours, theirs, label):
    a, adata = entries(ours)
    b, bdata = entries(theirs)
    problems = []
    mine = {e[0]: e for e in a}
    for e in b:
        m = mine.get(e[0])
        if m is None:
            problems.append('no entry ' + e[0])
        elif m[1:4] != e[1:4] or m[4] != 0 or m[5] != e[5] or m[6:] != e[6:]:
            problems.append('%s: ours %s, torch %s' % (e[0], m[1:], e[1:]))
    z1, z2 = zipfile.ZipFile(ours), zipfile.ZipFile(theirs)
    top1, top2 = z1.namelist()[0].split('/')[0], z2.namelist()[0].split('/')[0]
    same_pickle = z1.read(top1 + '/data.pkl') == z2.read(top2 + '/data.pkl')
    if not same_pickle:
        problems.append('data.pkl differs from torch\'s')
    tail = lambda d: (d[-22:-22 + 10], d[-98:-98 + 32])  # EOCD counts, ZIP64 end record head
    print('%-40s %d entries (torch: %d; extra: %s), data.pkl %s, headers/descriptors/CRCs %s' % (
        label, len(a), len(b), sorted(set(mine) - {e[0] for e in b}),
        'identical to torch\'s' if same_pickle else 'DIFFERENT', 'as torch' if not problems else 'FAIL ' + '; '.join(problems[:3])))
    return not problems


def main():
    if sys.argv[1] == 'reference':
        torch.save(mixed(), sys.argv[2])
        return 0
    folder = sys.argv[2]
    print('torch', torch.__version__)
    cases = [('mixed.pt', mixed), ('many.pt', lambda: many(65537))]
    if os.path.exists(os.path.join(folder, 'large.pt')):
        cases.append(('large.pt', lambda: large((4 << 30) + 64)))
    ok = True
    for name, build in cases:
        path = os.path.join(folder, name)
        want = build()
        ok &= compare(torch.load(path, weights_only=True), want, name + ' weights_only=True')
        loaded = torch.load(path)
        ok &= compare(loaded, want, name + ' weights_only=False')
        resaved = torch_bytes(loaded, name)
        ok &= compare(torch.load(resaved, weights_only=True), want, name + ' re-saved by torch, reloaded')
        ok &= check_layout(path, torch_bytes(want, name), name + ' vs torch.save')
        del loaded, want
    print('ALL OK' if ok else 'FAILURES')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
