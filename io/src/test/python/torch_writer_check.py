"""Real-torch check of TorchCheckpointWriter (Debian's python3-torch 1.13: /usr/bin/python3; also runs on torch 2).

  torch_writer_check.py reference OUT.pt   writes, with torch.save, the checkpoint WriterSamples.mixed()
                                           describes (the test resources torch/writer/reference.pt, made
                                           with torch 1.13, and torch/writer/torch2/reference.pt, torch 2.6)
  torch_writer_check.py check DIR [--large]
                                           loads the files TorchCheckpointWriterTest wrote to DIR
                                           (io/target/torch-writer-samples) with torch.load, with and
                                           without weights_only, compares every tensor to what it must
                                           hold, compares the pickle and the zip layout to what torch.save
                                           writes for the same objects, and re-saves each with torch;
                                           --large adds the 4 GiB file (needs ~9 GB of memory, 8 GB of disk)

Nothing here runs in mvn verify; the unit tests compare against reference.pt instead.
"""
import bisect
import collections
import mmap
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
    """A tensor's elements, row-major, as a uint8 tensor (a view when already contiguous): bit-exact, NaN too."""
    flat = t.contiguous().reshape(-1)
    return flat.view(torch.uint8) if flat.dtype != torch.bool else flat


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
        if not torch.equal(raw(g), raw(w)):
            problems.append('%s: bytes differ' % name)
    for a, b in TIED:
        if a in got['module'] and got['module'][a].storage().data_ptr() != got['module'][b].storage().data_ptr():
            problems.append('%s and %s do not share a storage' % (a, b))
    print('%-40s %d tensors, %d other values: %s' % (label, len(want['module']), len(want) - 1,
                                                      'OK' if not problems else 'FAIL ' + '; '.join(problems[:5])))
    return not problems


def entries(path):
    """Per entry: name, flags, method, local extra fields, data offset mod 64, bytes between data and next header, CRC, size."""
    z = zipfile.ZipFile(path)
    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        infos = z.infolist()
        starts = sorted(i.header_offset for i in infos) + [z.start_dir]
        out = {}
        for info in infos:
            at = info.header_offset
            _, _, flags, method, _, _, _, _, _, nlen, xlen = struct.unpack('<IHHHHHIIIHH', data[at:at + 30])
            extra = data[at + 30 + nlen:at + 30 + nlen + xlen]
            fields, i = [], 0
            while i + 4 <= len(extra):
                fid, flen = struct.unpack('<HH', extra[i:i + 4])
                fields.append('ZIP64(%d)' % flen if fid == 1 else extra[i:i + 2].decode('latin1'))
                i += 4 + flen
            start = at + 30 + nlen + xlen
            following = starts[bisect.bisect_right(starts, at)]
            out[info.filename.split('/', 1)[1]] = (flags, method, tuple(fields), start % 64,
                                                   following - start - info.file_size, info.CRC, info.file_size)
        tail = bytes(data[-98:])  # ZIP64 end record (56), locator (20), end record (22)
    return out, z.read(z.namelist()[0].split('/')[0] + '/data.pkl'), tail


def entries_of(path):
    return {n.split('/', 1)[1] for n in zipfile.ZipFile(path).namelist()}


def check_layout(ours, theirs, label):
    """Every record torch writes is in our file with torch's headers, padding, descriptor and CRC; data.pkl is torch's."""
    mine, mine_pickle, mine_tail = entries(ours)
    torch_entries, torch_pickle, torch_tail = entries(theirs)
    # the serialization id is a hash (torch 2's of std::hash values): its header, not its bytes, must match
    same = lambda name, a, b: a == b or name == '.data/serialization_id' and a is not None and a[:5] == b[:5]
    problems = ['%s: ours %s, torch %s' % (name, mine.get(name), e)
                for name, e in torch_entries.items() if not same(name, mine.get(name), e)]
    ids = [zipfile.ZipFile(f).read(zipfile.ZipFile(f).namelist()[0].split('/')[0] + '/.data/serialization_id')
           for f in (ours, theirs) if '.data/serialization_id' in entries_of(f)]
    if len(ids) == 2 and ids[0][20:] != ids[1][20:]:  # the half combining the records' CRC-32s is torch's
        problems.append('serialization id %s, torch %s' % (ids[0], ids[1]))
    if mine_pickle != torch_pickle:
        problems.append("data.pkl differs from torch's")
    # end records: the same but for counts, sizes and offsets (ZIP64 record head, locator's disks, end record's disks)
    fixed = lambda t: (t[:24], t[56:64], t[72:84], t[96:])
    if fixed(mine_tail) != fixed(torch_tail):
        problems.append('end records differ')
    print('%-40s %d entries (torch: %d, + %s), data.pkl %s, records %s' % (
        label, len(mine), len(torch_entries), sorted(set(mine) - set(torch_entries)),
        "identical to torch's" if mine_pickle == torch_pickle else 'DIFFERENT',
        "laid out as torch's" if not problems else 'FAIL ' + '; '.join(problems[:3])))
    return not problems


def main():
    if sys.argv[1] == 'reference':
        torch.save(mixed(), sys.argv[2])
        return 0
    folder = sys.argv[2]
    print('torch', torch.__version__)
    cases = [('mixed.pt', mixed), ('many.pt', lambda: many(65537))]
    if len(sys.argv) > 3 and sys.argv[3] == '--large':
        cases.append(('large.pt', lambda: large((4 << 30) + 64)))
    ok = True
    with tempfile.TemporaryDirectory() as scratch:
        for name, build in cases:
            path = os.path.join(folder, name)
            want = build()
            got = torch.load(path, weights_only=True)
            ok &= compare(got, want, name + ' weights_only=True')
            del got
            got = torch.load(path, weights_only=False)
            ok &= compare(got, want, name + ' weights_only=False')
            resaved = os.path.join(scratch, 'resaved-' + name)
            torch.save(got, resaved)
            del got
            ok &= compare(torch.load(resaved, weights_only=True), want, name + ' re-saved by torch, reloaded')
            reference = os.path.join(scratch, name)  # torch names the archive's folder after the file
            torch.save(want, reference)
            del want
            ok &= check_layout(path, reference, name + ' vs torch.save')
            ok &= check_layout(resaved, reference, 'resaved-' + name + ' vs torch.save')
            os.remove(resaved)
            os.remove(reference)
    print('ALL OK' if ok else 'FAILURES')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
