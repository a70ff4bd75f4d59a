"""flat_field for modes with a single detector flat (FlatModel): divide, propagate."""

from __future__ import annotations

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.blocks import integration_blocks
from spec2.algorithms.flat import divide_flat, multiply_flat, prepare_flat
from spec2.algorithms.subarray import window


def flat_for_frame(model, flat):
    """The flat's (data, err, dq) cut to the exposure's subarray.

    A flat that already has the exposure's shape is used as is; a full-frame flat is cut
    at the exposure's SUBSTRT/SUBSIZE.
    """
    shape = model.data.shape[-2:]
    data, err, dq = flat.data, flat.err, flat.dq
    if data.shape == shape:
        return data, err, dq
    sub = model.meta.subarray
    fx = (flat.meta.subarray.xstart or 1) if flat.meta.hasattr("subarray") else 1
    fy = (flat.meta.subarray.ystart or 1) if flat.meta.hasattr("subarray") else 1
    cut = window((sub.xstart or 1, sub.ystart or 1), shape, (fx, fy), data.shape)
    if cut is None:
        from spec2.errors import ReferenceFileError

        raise ReferenceFileError(
            f"flat reference ({data.shape[1]}x{data.shape[0]}) does not cover subarray "
            f"{sub.name} at ({sub.xstart}, {sub.ystart})"
        )
    return data[cut], None if err is None else err[cut], None if dq is None else dq[cut]


def _array(model, name):
    return getattr(model, name) if model.hasattr(name) else None


def reusable(array, shape, dtype, others=()):
    """``array`` if a result of ``shape`` and ``dtype`` can be written into it in place
    (a writable ndarray of exactly that shape and native type, sharing no memory with
    ``others``), else None."""
    if (type(array) is not np.ndarray or array.shape != tuple(shape) or array.dtype != np.dtype(dtype)
            or not array.flags.writeable):
        return None
    if any(o is not None and np.may_share_memory(array, o) for o in others):
        return None
    return array


def apply_flat(model, flat, inverse=False):
    """Divide the science data by the flat in place; return the model.

    SCI, VAR_POISSON, VAR_RNOISE are divided (the variances by f^2), VAR_FLAT is the
    flat's own error, ERR = sqrt(VP + VR + VF); the flat's DQ is OR-ed in, and NaN/flag
    consistency is enforced. A time series is taken a block of integrations at a time.
    ``inverse`` multiplies instead (VAR_FLAT zero): it undoes the division.
    The model's own ERR, VAR_FLAT and DQ arrays take the results where they can (the
    values are the same either way): a time series then needs no new full-size arrays.
    """
    f, ferr, fdq = prepare_flat(*flat_for_frame(model, flat))
    data = model.data
    vp = model.var_poisson if model.var_poisson is not None and model.var_poisson.size else np.zeros_like(data)
    vr = model.var_rnoise if model.var_rnoise is not None and model.var_rnoise.size else np.zeros_like(data)
    inputs = (data, vp, vr)
    vf = reusable(_array(model, "var_flat"), data.shape, np.float32, inputs)
    err = reusable(_array(model, "err"), data.shape, np.float32, inputs + (vf,))
    dq = reusable(_array(model, "dq"), data.shape, np.uint32, inputs + (vf, err))
    if dq is None:
        dq = model.dq | fdq
    else:
        np.bitwise_or(dq, fdq, out=dq)
    vf = np.empty(data.shape, np.float32) if vf is None else vf
    err = np.empty(data.shape, np.float32) if err is None else err
    for b in integration_blocks(data.shape):
        if inverse:
            _, p, r, vf[b] = multiply_flat(data[b], vp[b], vr[b], f)
        else:
            _, p, r, vf[b] = divide_flat(data[b], vp[b], vr[b], f, ferr)
        err[b] = np.sqrt(p + r + vf[b])
        dqflags.match_nans_and_flags(data[b], dq[b], (err[b], vp[b], vr[b], vf[b]))
    model.var_poisson, model.var_rnoise, model.var_flat, model.err, model.dq = vp, vr, vf, err, dq
    return model
