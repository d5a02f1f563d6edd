"""Safetensors files for the tool's tests, written by hand (the tests need
only numpy): the header, whole files, and a saved model's weight."""
import json
import struct

import numpy as np


def header(tensors, meta=True):
    """The JSON header, padded to 8 bytes; tensors: name -> (dtype, shape,
    [begin, end])."""
    h = {'__metadata__': {'format': 'pt'}} if meta else {}
    for k, (dt, shape, off) in tensors.items():
        h[k] = {'dtype': dt, 'shape': list(shape), 'data_offsets': list(off)}
    b = json.dumps(h).encode()
    return b + b' ' * (-len(b) % 8)


def write(path, h, data):
    open(path, 'wb').write(len(h).to_bytes(8, 'little') + h + data)


def save(path, arrays, dtypes=None):
    """arrays: name -> numpy array, in file order; dtypes: name -> the
    safetensors dtype when numpy's does not say it (BF16 bits as uint16)."""
    t, data = {}, b''
    for k, a in arrays.items():
        dt = (dtypes or {}).get(k) or {'float32': 'F32',
                                       'float16': 'F16'}[str(a.dtype)]
        t[k] = (dt, a.shape, [len(data), len(data) + a.nbytes])
        data += a.tobytes()
    write(path, header(t), data)


def weight(path):
    """The float32 weight of a model file the tool saved."""
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    o = json.loads(raw[8:8 + n])['weight']['data_offsets']
    return np.frombuffer(raw[8 + n + o[0]:8 + n + o[1]], np.float32)
