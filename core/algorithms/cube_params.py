"""A cube's sampling and weighting parameters: the ``cubepar`` reference's row for each
band, the rules jwst 3.0.0 uses to combine bands, and the user's overrides (pure).

The cubepar tables (``ifucubepars_table``, ``_msm_table``, ``_emsm_table``) key every row
on their first two columns: (disperser, filter) for NIRSpec, (channel, band) for MIRI; a
third-party IFU reference laid out the same way needs nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spec2.errors import ReferenceFileError

WEIGHTINGS = ("drizzle", "emsm", "msm")


@dataclass(frozen=True)
class CubeParameters:
    """What one cube is built with: spaxel size (arcsec), wavelength step and range
    (micron), and for emsm/msm the regions of interest and weight shape."""

    scale: float
    wave_step: float
    wave_min: float
    wave_max: float
    weighting: str = "drizzle"
    rois: float = 0.0
    roiw: float = 0.0
    weight_power: float = 2.0
    softrad: float = 0.0
    scalerad: float = 0.0


def table_rows(table):
    """A cubepar table as a list of {lower-case column: value} dicts (strings lower-cased)."""
    if table is None:
        return []
    names = table.dtype.names
    rows = []
    for row in table:
        values = {}
        for name in names:
            v = row[name]
            if isinstance(v, bytes):
                v = v.decode()
            values[name.lower()] = v.strip().lower() if isinstance(v, str) else float(v)
        rows.append(values)
    return rows


def band_row(rows, band, what="cubepar"):
    """The row of ``rows`` whose first two columns equal ``band`` (case-insensitive)."""
    for row in rows:
        keys = list(row)
        if (str(row[keys[0]]), str(row[keys[1]])) == (band[0].lower(), band[1].lower()):
            return row
    raise ReferenceFileError(f"the {what} reference has no row for {band[0]}/{band[1]}")


def cube_parameters(tables, bands, weighting="drizzle", n_exposures=1, scalexy=0.0, scalew=0.0,
                    wavemin=None, wavemax=None, rois=0.0, roiw=0.0, weight_power=2.0):
    """The parameters of a cube covering ``bands`` ([(par1, par2), ...]).

    tables -- {"main": rows, "msm": rows, "emsm": rows} (see :func:`table_rows`)

    jwst 3.0.0's rules: the smallest spaxel size of the bands (and its ROI); the wavelength
    range spans every band's; the bands' spectral step when they share one (else
    ``scalew`` must be given); 0 / None means "from the reference". With fewer than four
    exposures msm's spatial ROI is widened by 1.5 (emsm's is not). ``weight_power`` 0
    takes the reference's POWER.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, not {weighting!r}")
    main = [band_row(tables["main"], b) for b in bands]
    scales = np.array([r["spaxelsize"] for r in main])
    steps = np.array([r["spectralstep"] for r in main])
    finest = int(np.argmin(scales))
    wmin = float(min(r["wavemin"] for r in main)) if wavemin is None else float(wavemin)
    wmax = float(max(r["wavemax"] for r in main)) if wavemax is None else float(wavemax)
    if wmax <= wmin:
        raise ValueError(f"cube_build: wavemax ({wmax}) must exceed wavemin ({wmin})")
    if scalew:
        step = float(scalew)
    elif np.all(steps == steps[0]):
        step = float(steps[0])
    else:
        raise ValueError("cube_build: the bands have different wavelength steps; set scalew "
                         "(a non-linear wavelength axis is not supported)")
    roi = {"rois": 0.0, "roiw": 0.0, "softrad": 0.0, "scalerad": 0.0, "power": 0.0}
    if weighting in ("msm", "emsm"):
        rows = [band_row(tables[weighting], b, f"cubepar {weighting}") for b in bands]
        pick = rows[finest]
        roi.update(rois=pick["roispatial"], roiw=min(r["roispectral"] for r in rows) if scalew else rows[0]["roispectral"])
        if weighting == "msm":
            roi.update(softrad=min(r["softrad"] for r in rows) if scalew else rows[0]["softrad"],
                       power=min(r["power"] for r in rows) if scalew else rows[0]["power"])
        else:
            roi["scalerad"] = min(r["scalerad"] for r in rows) if scalew else rows[0]["scalerad"]
    spatial_roi = float(rois) if rois else roi["rois"]
    if not rois and n_exposures < 4 and weighting == "msm":
        spatial_roi *= 1.5
    params = CubeParameters(
        scale=float(scalexy) if scalexy else float(scales[finest]), wave_step=step, wave_min=wmin, wave_max=wmax,
        weighting=weighting, rois=spatial_roi, roiw=float(roiw) if roiw else roi["roiw"],
        weight_power=float(weight_power) if weight_power else roi["power"], softrad=roi["softrad"],
        scalerad=roi["scalerad"],
    )
    for name in ("scale", "wave_step", "wave_min", "wave_max"):
        if not np.isfinite(getattr(params, name)) or (name in ("scale", "wave_step") and getattr(params, name) <= 0):
            raise ReferenceFileError(f"cubepar: {name} is {getattr(params, name)} for {bands}")
    return params
