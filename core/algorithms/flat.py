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
    """Divide by the flat (broadcast over integrations).

    Returns (sci, var_poisson, var_rnoise, var_flat) with
    sci' = sci/f, VP' = VP/f^2, VR' = VR/f^2 and VF = (sci'/f * sigma_f)^2, the flat's
    own error carried as a separate variance term.
    """
    f2 = flat * flat
    sci = sci / flat
    var_p = var_p / f2
    var_r = var_r / f2
    # evaluated in this order so that float32 results match jwst's bit for bit
    var_f = sci**2 / f2 * flat_err**2
    return sci.astype(np.float32), var_p.astype(np.float32), var_r.astype(np.float32), var_f.astype(np.float32)
