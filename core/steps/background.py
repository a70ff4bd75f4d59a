"""bkg_subtract from association members: nods or dedicated background exposures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spec2.algorithms.background import combine_backgrounds, sigma_clipped_mean
from spec2.algorithms.subarray import window


@dataclass
class BackgroundFrame:
    """What subtraction needs of a background exposure: its arrays and where its
    pixels sit on the detector (1-based SUBSTRT1/2)."""

    name: str
    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    xstart: int = 1
    ystart: int = 1

    @classmethod
    def from_model(cls, model):
        sub = model.meta.subarray
        return cls(model.meta.filename or "background", model.data, model.err, model.dq, sub.xstart or 1, sub.ystart or 1)


def read_background(path) -> BackgroundFrame:
    """Read a background member's SCI/ERR/DQ and subarray origin straight from FITS.

    A batch of nods opens every exposure as science and again as its partner's
    background; the arrays are all this step uses, so they are read without building
    (and schema-checking) a datamodel.
    """
    from pathlib import Path

    from astropy.io import fits

    from spec2.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"background member {path}: no such file")
    try:
        with fits.open(path, memmap=False) as hdul:
            header = hdul[0].header
            sci_header = hdul["SCI"].header
            data, err, dq = hdul["SCI"].data, hdul["ERR"].data, hdul["DQ"].data
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"background member {path}: not a readable rate file ({exc})") from None
    if data is None or err is None or dq is None:
        raise InputError(f"background member {path}: lacks SCI, ERR or DQ data")
    xstart = sci_header.get("SUBSTRT1", header.get("SUBSTRT1", 1))
    ystart = sci_header.get("SUBSTRT2", header.get("SUBSTRT2", 1))
    return BackgroundFrame(path.name, data, err, dq, int(xstart), int(ystart))


def _frame_arrays(background: BackgroundFrame, science, sigma, maxiters):
    """A background exposure's (sci, err, dq) on the science frame: cut to the science
    subarray, and averaged over integrations (sigma-clipped) if it has several."""
    sci, err, dq = background.data, background.err, background.dq
    if sci.ndim == 3:
        sci, _ = sigma_clipped_mean(sci, sigma=sigma, maxiters=maxiters)
        var, _ = sigma_clipped_mean(err.astype(np.float64) ** 2, sigma=sigma, maxiters=maxiters)
        err = np.sqrt(var).astype(np.float32)
        dq = np.bitwise_or.reduce(dq, axis=0)
    shape = science.data.shape[-2:]
    if sci.shape != shape:
        s = science.meta.subarray
        cut = window((s.xstart or 1, s.ystart or 1), shape, (background.xstart, background.ystart), sci.shape)
        if cut is None:
            from spec2.errors import InputError

            raise InputError(f"background {background.name} does not cover the science subarray")
        sci, err, dq = sci[cut], err[cut], dq[cut]
    return sci, err, dq


def subtract_background(model, backgrounds, sigma=3.0, maxiters=None):
    """Subtract the sigma-clipped mean of the background exposures in place.

    backgrounds -- BackgroundFrame objects (see read_background) or datamodels.

    SCI -= B and DQ |= OR of the backgrounds' DQ; ERR and the variances are left as they
    are (the background's noise is not propagated, as in jwst). Where no background
    value survives (bad in every member) nothing is subtracted; the member's DO_NOT_USE
    flag, OR-ed in, marks the pixel, and the next step's NaN/flag rule blanks it.
    """
    backgrounds = [b if isinstance(b, BackgroundFrame) else BackgroundFrame.from_model(b) for b in backgrounds]
    frames = [_frame_arrays(b, model, sigma, maxiters) for b in backgrounds]
    bkg, _err, bdq = combine_backgrounds(*zip(*frames), sigma=sigma, maxiters=maxiters)
    model.data = (model.data - np.nan_to_num(bkg, nan=0.0)).astype(np.float32)
    model.dq = model.dq | bdq
    return model


def subtract_association_backgrounds(model, params, members):
    """The bkg_subtract step for modes whose background comes from association members
    (nods, dedicated background exposures): read each ``background`` member and
    subtract their clipped mean. Raises StepSkipped when the association has none.

    A member is a path, or a datamodel an earlier step made from it (NIRSpec imprint
    replaces the background members by imprint-subtracted models: StepDef
    ``rewrites_members``)."""
    import os

    from spec2.errors import StepSkipped

    found = members.get("background", [])
    if not found:
        raise StepSkipped("no background members in the association")
    frames = [read_background(m) if isinstance(m, (str, os.PathLike)) else BackgroundFrame.from_model(m)
              for m in found]
    return subtract_background(model, frames, sigma=params["sigma"], maxiters=params["maxiters"])
