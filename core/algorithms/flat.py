"""Flat-field division with error propagation."""

from __future__ import annotations

import numpy as np

from spec2.algorithms import dq as dqflags


def prepare_flat(flat, flat_err, flat_dq):
    """Clean a flat: NaN, zero or NO_FLAT_FIELD values get DO_NOT_USE|NO_FLAT_FIELD and
    value 1 (so they leave the data unchanged but flagged). Returns copies."""
    flat = np.array(flat, dtype=np.float32)
    flat_err = np.zeros_like(flat) if flat_err is None else np.array(flat_err, dtype=np.float32)
    flat_dq = np.zeros(flat.shape, np.uint32) if flat_dq is None else np.array(flat_dq, dtype=np.uint32)
    bad = ~np.isfinite(flat) | (flat == 0) | ((flat_dq & dqflags.NO_FLAT_FIELD) != 0)
    flat_dq[bad] |= dqflags.DO_NOT_USE | dqflags.NO_FLAT_FIELD
    unused = (flat_dq & dqflags.DO_NOT_USE) != 0
    flat[unused] = 1.0
    flat_err[unused] = 0.0
    return flat, flat_err, flat_dq


def divide_flat(sci, var_p, var_r, flat, flat_err):
    """Divide by the flat in place (broadcast over integrations).

    sci /= f, VP /= f^2, VR /= f^2; returns (sci, var_poisson, var_rnoise, var_flat) with
    the new VAR_FLAT = sci'^2 / f^2 * sigma_f^2, the flat's own error carried as a
    separate variance term. Evaluated in jwst's order, so float32 results match its.
    """
    f2 = flat * flat
    sci /= flat
    var_p /= f2
    var_r /= f2
    var_f = sci**2 / f2 * flat_err**2
    return sci, var_p, var_r, var_f.astype(np.float32, copy=False)


def multiply_flat(sci, var_p, var_r, flat):
    """Undo a flat division in place (the inverse flat of master background):
    sci *= f, VP *= f^2, VR *= f^2; returns (sci, var_poisson, var_rnoise, var_flat) with
    VAR_FLAT zero, as jwst's inverse flat leaves it."""
    f2 = flat * flat
    sci *= flat
    var_p *= f2
    var_r *= f2
    return sci, var_p, var_r, np.zeros(sci.shape, np.float32)
