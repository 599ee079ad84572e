"""Makes the expected outputs PythonJsonTest and PythonFloatsTest compare with, using Python's own json.

Run from this folder with a CPython 3: /usr/bin/python3 make_python_json_cases.py
Writes float_reprs.txt (one "<hex bits of the double> <repr>" per line) and
python_json_cases.json (a list of {"name", "input": json text, "sorted", "unsorted"}: what
json.dumps(value, indent=2, sort_keys=True / False) gives for the value the input text holds).
"""
import json
import math
import random
import struct

rng = random.Random(20240611)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


floats = [0.0, -0.0, 1.0, -1.0, 0.7, 1.15258426, 1e-05, 1e-06, 0.0001, 0.001, 1e+20, 1e16, 1e15,
          9999999999999998.0, 1e22, 1e23, 5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
          1.7976931348623157e308, 0.1 + 0.2, 1 / 3, 2 / 3, 100.0, 123456789.0, 0.5, 3.0, 12.5,
          0.00012345, 1.2345e-05, 4.35, 2.675, 1e-7, 9.5367431640625e-07, 2.0 ** 53, 2.0 ** 53 + 2.0,
          2.0 ** 63, 1e300 * 10, 123e-310, math.pi, math.e, 0.18215, 0.13025, 1e100, 1.5e-300]
floats += [2.0 ** e for e in range(-1074, 1024, 7)]
floats += [10.0 ** e for e in range(-323, 309)]
floats += [from_bits(rng.getrandbits(64)) for _ in range(3000)]
floats += [round(rng.uniform(-1000, 1000), rng.randint(0, 8)) for _ in range(1500)]
floats += [rng.uniform(0, 1) * 10.0 ** rng.randint(-30, 30) for _ in range(1500)]
floats = [x for x in floats if math.isfinite(x)]
with open("float_reprs.txt", "w") as f:
    for x in floats:
        f.write(f"{bits(x):016x} {x!r}\n")

config_like = {
    "_class_name": "CogVideoXTransformer3DModel",
    "_diffusers_version": "0.32.0",
    "activation_fn": "gelu-approximate",
    "attention_bias": True,
    "attention_head_dim": 64,
    "dropout": 0.0,
    "flip_sin_to_cos": True,
    "norm_eps": 1e-05,
    "patch_size_t": None,
    "sample_frames": 49,
    "scaling_factor": 1.15258426,
    "spatial_interpolation_scale": 1.875,
    "temporal_compression_ratio": 4,
    "block_out_channels": [128, 256, 256, 512],
    "down_block_types": ["CogVideoXDownBlock3D"] * 2,
    "timestep_spacing": "trailing",
    "invert_scale_latents": False,
}
cases = {
    "config_like": config_like,
    "model_index": {"_class_name": "CogVideoXPipeline", "_diffusers_version": "0.32.0",
                    "scheduler": ["diffusers", "CogVideoXDDIMScheduler"], "text_encoder": ["transformers", "T5EncoderModel"],
                    "tokenizer": [None, None], "transformer": ["diffusers", "CogVideoXTransformer3DModel"]},
    "empty_containers": {"z": {}, "a": [], "m": [{}, [], [[]], {"k": {}}], "s": ""},
    "nesting": {"b": [1, [2, [3, {"deep": [4.5, {"deeper": [None, True, False]}]}]]], "a": {"y": {"x": {"w": 1}}}},
    "unicode": {"é": "café", "中文": "汉字", "emoji 😀": "😀 🎉", "controls": "\x00\x01\x1f\x7f\x80\x9f",
                "escapes": "\"quote\" \\back\\ /slash\n\r\t\b\f", "lsep": "\u2028\u2029", "bom": "\ufeff",
                "lone": "\ud800x\udfff", "high": "\U0010ffff"},
    "key_order": {"b": 1, "a": 2, "B": 3, "_": 4, "aa": 5, "a a": 6, "\uffff": 7, "😀": 8, "\ue000": 9, "": 10, "10": 11, "9": 12},
    "numbers": {"ints": [0, -0, 1, -1, 2 ** 31, -2 ** 31 - 1, 2 ** 63, 2 ** 70, -2 ** 70],
                "floats": [0.0, -0.0, 1.0, 1e-05, 0.7, 1.15258426, 1e+20, 1e16, 1e15, 5e-324, 1.7976931348623157e308,
                           math.inf, -math.inf, math.nan, 0.1 + 0.2, 2.5e-300],
                "bools": [True, False], "none": None},
    "top_level_list": [1, "two", 3.0, None, {"b": 1, "a": 0}],
    "top_level_string": "just a string \u00e9",
    "top_level_float": 0.0001,
    "top_level_empty_dict": {},
    "index_like": {"weight_map": {"b.weight": "model-00002-of-00002.safetensors", "a.bias": "model-00001-of-00002.safetensors"},
                   "metadata": {"total_size": 123456789012}},
}
with open("python_json_cases.json", "w") as f:
    out = [{"name": name, "input": json.dumps(value), "sorted": json.dumps(value, indent=2, sort_keys=True),
            "unsorted": json.dumps(value, indent=2, sort_keys=False)} for name, value in cases.items()]
    f.write(json.dumps(out, indent=1) + "\n")
