#!/usr/bin/env python3
"""Interop between dfsae's model files and Python with numpy only.

1. io_tool exports a model with an input transform, a batch X and
   dfsae's forward A; this script reads the safetensors file with
   json/struct/numpy, computes relu(((X - shift) * scale) W^T + b) and
   compares with A to 1e-5.
2. This script writes files the way PyTorch's safetensors does (a plain
   nn.Linear state dict without dfsae metadata, an Encoder's "linear."
   names with dfsae metadata choosing softplus and a global input
   transform) and io_tool loads them and compares its forward with
   numpy's.

usage: interop.py IO_TOOL WORKDIR
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype="<f4")
        tensors[name] = arr.reshape(info["shape"])
    return tensors, meta


def write_safetensors(path, tensors, meta=None):
    header, offset, chunks = {}, 0, []
    if meta is not None:
        header["__metadata__"] = meta
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # pad as safetensors does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def softplus(z):
    return np.logaddexp(0.0, z)


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    subprocess.run([tool, "export", work], check=True)

    tensors, meta = read_safetensors(os.path.join(work, "model.safetensors"))
    W, b = tensors["weight"], tensors["bias"]
    assert W.shape == (5, 7) and b.shape == (5,), (W.shape, b.shape)
    shift = tensors["input_transform.shift"].astype(np.float64)
    scale = tensors["input_transform.scale"].astype(np.float64)
    assert shift.shape == (7,) and scale.shape == (7,), (shift, scale)
    assert meta["dfsae.format_version"] == "2", meta
    assert meta["dfsae.activation"] == "relu", meta
    # the run state of a model never trained: epoch 0, seed 0
    assert meta["dfsae.run.epochs"] == "0", meta
    assert meta["dfsae.run.rows"] == "0", meta
    assert meta["dfsae.run.seed"] == "0", meta
    X = np.fromfile(os.path.join(work, "X.bin"), dtype="<f4").reshape(-1, 7)
    A = np.fromfile(os.path.join(work, "A.bin"), dtype="<f4").reshape(-1, 5)
    Xt = (X.astype(np.float64) - shift) * scale
    mine = np.maximum(Xt @ W.T.astype(np.float64) + b, 0.0)
    err = float(np.max(np.abs(mine - A)))
    print(f"python reads dfsae: max |numpy - dfsae| = {err:.3g}")
    assert err <= 1e-5, err
    assert np.count_nonzero(A) > 0 and np.count_nonzero(A == 0) > 0

    rng = np.random.default_rng(7)
    X2 = rng.standard_normal((13, 6)).astype(np.float32)
    X2.tofile(os.path.join(work, "X2.bin"))
    W2 = rng.standard_normal((4, 6)).astype(np.float32) * 0.5
    b2 = rng.standard_normal(4).astype(np.float32) * 0.1

    # A plain nn.Linear state dict, as torch's save_file writes it.
    plain = os.path.join(work, "plain.safetensors")
    write_safetensors(plain, {"weight": W2, "bias": b2}, {"format": "pt"})
    relu = np.maximum(X2.astype(np.float64) @ W2.T + b2, 0.0)
    relu.astype("<f4").tofile(os.path.join(work, "A2_relu.bin"))
    subprocess.run([tool, "check", plain, os.path.join(work, "X2.bin"),
                    os.path.join(work, "A2_relu.bin"), "relu"], check=True)

    # An Encoder checkpoint ("linear." names) with dfsae metadata, a user
    # pair (json.dumps escapes the non-ASCII text and the newline) and a
    # key of some other tool, which is not user metadata.
    enc = os.path.join(work, "encoder.safetensors")
    g_shift = np.array([0.5], dtype=np.float32)
    g_scale = np.array([2.0], dtype=np.float32)
    write_safetensors(enc, {"linear.weight": W2, "linear.bias": b2,
                            "input_transform.shift": g_shift,
                            "input_transform.scale": g_scale},
                      {"dfsae.format_version": "2",
                       "dfsae.activation": "softplus",
                       "dfsae.lambda_wr": "0.25",
                       "dfsae.run.epochs": "4",
                       "user.note": "written by numpy \u2713",
                       "other.tool": "ignored"})
    sp = softplus((X2.astype(np.float64) - 0.5) * 2.0 @ W2.T + b2)
    sp.astype("<f4").tofile(os.path.join(work, "A2_softplus.bin"))
    r = subprocess.run([tool, "check", enc, os.path.join(work, "X2.bin"),
                        os.path.join(work, "A2_softplus.bin"), "softplus"],
                       check=True, capture_output=True, encoding="utf-8")
    print(r.stdout, end="")
    metas = [l for l in r.stdout.splitlines() if l.startswith("meta ")]
    assert metas == ["meta note=written by numpy \u2713"], metas

    # The control: a wrong expectation must make the check fail.
    bad = (relu + 1e-3).astype("<f4")
    bad.tofile(os.path.join(work, "A2_bad.bin"))
    r = subprocess.run([tool, "check", plain, os.path.join(work, "X2.bin"),
                        os.path.join(work, "A2_bad.bin"), "relu"])
    assert r.returncode != 0, "check accepted a wrong forward"
    print("interop: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
