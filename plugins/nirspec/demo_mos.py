"""The MOS case of ``spec2 demo``: a small simulated MSA visit (two nod points and an
imprint exposure, in a spec2 association) whose calibrated point-source spectrum is
checked against the injected one.

There is no MOS ``_x1d`` on this branch, so the case is judged on the ``_s2d``: the
rectified slit of the chosen source, summed over its trace (the nod subtraction leaves
the other nod point's negative trace one shutter away: the sum stops halfway to it).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

# the source judged: slitlet 1 of the default configuration, a 1x3 slitlet whose point
# source sits off-centre in its shutter (wavecorr and the point-source path loss matter)
DEMO_SLITLET = 1
HALF_ROWS = 3  # rows either side of the peak that must be finite (the PSF is ~1 pixel wide)


def row_weights(profile, half_rows=HALF_ROWS):
    """Weight (0, 0.5 or 1) of each row in the sum over a point source's trace, from the
    slit's profile along the rows. After a nod subtraction the other nod point's negative
    trace lies a shutter away: every row on the source's side of the midpoint between the
    two traces counts (the tails beyond it, either trace's, are a few tenths of a percent);
    otherwise the ``half_rows`` either side of the peak."""
    profile = np.asarray(profile, float)
    rows = np.arange(profile.size)
    peak, trough = int(np.nanargmax(profile)), int(np.nanargmin(profile))
    if profile[trough] < -0.2 * profile[peak]:
        side = (rows - 0.5 * (peak + trough)) * np.sign(peak - trough)
        return np.where(side > 0, 1.0, np.where(side == 0, 0.5, 0.0))
    return (np.abs(rows - peak) <= half_rows).astype(float)


def trace_sum(data, err, wavelength, half_rows=HALF_ROWS):
    """(wavelength, flux, error) of a rectified slit summed over its point source's trace
    (``row_weights`` of the median profile over columns); a column with a NaN within
    ``half_rows`` of the peak is NaN rather than a partial sum."""
    data, err, wavelength = (np.asarray(a, float) for a in (data, err, wavelength))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows beyond the slit are all NaN
        profile = np.nanmedian(data, axis=1)
    weights = row_weights(profile, half_rows)[:, None]
    use = weights > 0
    flux = np.nansum(np.where(use, weights * data, 0.0), axis=0)
    error = np.sqrt(np.nansum(np.where(use, (weights * err) ** 2, 0.0), axis=0))
    peak = int(np.nanargmax(profile))
    core = slice(max(peak - half_rows, 0), peak + half_rows + 1)
    broken = ~np.all(np.isfinite(data[core]), axis=0)
    flux[broken] = np.nan
    wl = np.nanmean(np.where(use, wavelength, np.nan)[core], axis=0)
    return wl, flux, error


def read_s2d_source(path, case):
    """The case's source (``case.source_id``) from an ``_s2d``: flux density in Jy (the
    s2d of a point source is in MJy per pixel)."""
    from stdatamodels.jwst import datamodels

    with datamodels.open(path) as model:
        slit = next((s for s in model.slits if s.source_id == case.source_id), None)
        if slit is None:
            raise KeyError(f"no slit of source {case.source_id} in {Path(path).name}")
        wl, flux, err = trace_sum(slit.data, slit.err, slit.wavelength)
    return wl, flux * 1e6, err * 1e6


def mos_demo_case(directory, cache):
    """Simulate the visit on NRS1 (references into ``cache``) and describe the case."""
    from spec2.demo import DemoCase
    from spec2_nirspec.sim.mos import default_configuration, point_flux, simulate_mos

    sim = simulate_mos(Path(directory) / "nirspec_mos", cache, detectors=("NRS1",), dithers=(1, 2), imprint=True)
    planned = next(s for s in default_configuration() if s.slitlet_id == DEMO_SLITLET)
    wl = np.linspace(1.5, 3.3, 4000)
    return DemoCase(
        name="NIRSpec MOS",
        description=(f"G235M/F170LP, {len(sim['slitlets'])} slitlets, two nod points and an imprint; "
                     f"the off-centre point source of slitlet {DEMO_SLITLET} in the _s2d, summed over its trace "
                     "(no MOS _x1d yet)"),
        inputs=[sim[("asn", "NRS1")]], truth_wavelength=wl, truth_flux=point_flux(planned, wl) * 1e6,
        wavelength_range=(2.15, 3.1), source_id=planned.source_id, tolerance=0.02,
        judged_suffixes=("_s2d.fits",), reader=read_s2d_source)
