"""MIRI LRS fixed-slit resample_spec: the _cal drizzled onto a rectified grid (_s2d).

The LRS-specific parts of jwst 3.0's ResampleSpecStep for one exposure; the grid, the
kernel and the variance propagation are the generic ones of spec2.algorithms.resample.
For LRS the wavelength runs along detector y (DISPAXIS = 2) and the output keeps the
detector's direction (wavelength decreasing with y); S_REGION is redrawn as a band of
the slit's width along the rectified slit; a source position (SRCXPOS/SRCYPOS), when
set, is moved into the output frame.
"""

from __future__ import annotations

LRS_FIXEDSLIT = "MIR_LRS-FIXEDSLIT"


def resample_lrs(model, pixfrac=1.0, kernel="square", weight_type="ivm", pixel_scale_ratio=1.0):
    """Resample one MIRI LRS fixed-slit exposure onto a rectified grid: the ``_s2d``.

    model -- calibrated SlitModel (``_cal``): 2-D data in surface brightness (or flux
             density), dq, var_rnoise/var_poisson/var_flat, ``meta.wcs`` a gwcs
             detector -> (ra, dec, wavelength) with a bounding box; not modified
    pixfrac, kernel -- drizzle drop size and kernel ("square", "point", ...)
    weight_type -- "ivm" (1/VAR_RNOISE), "exptime" or None; pixels flagged DO_NOT_USE or
             NON_SCIENCE, or NaN in any array, get weight 0
    pixel_scale_ratio -- input / output spatial pixel scale

    Returns a new SlitModel as jwst 3.0's ResampleSpecStep makes it: meta and slit
    attributes of the input; data, wht, con (context), err, var_rnoise, var_flat,
    var_poisson on a grid with one column per spatial pixel and one row per input
    dispersion pixel (wavelength decreasing with y); ``meta.wcs`` the rectified
    detector -> world gwcs; ``wavelength`` from it; PIXAR_SR/PIXAR_A2 = input / ratio;
    meta.resample, exposure times, S_REGION and source position updated.
    """
    from spec2.algorithms import resample as rs
    from spec2.steps.resample_slit import drizzle_slit, output_model, put, set_metadata

    if model.data.ndim != 2:
        raise TypeError(f"resample_lrs needs a 2-D SlitModel, got data of shape {model.data.shape}")
    dispaxis = model.meta.wcsinfo.dispersion_direction or 2
    wcs_in = model.meta.wcs
    sample = rs.sample_wcs(wcs_in, model.data.shape)
    grid = rs.rectified_grid([sample], dispaxis, descending=model.meta.exposure.type == LRS_FIXEDSLIT,
                             pixel_scale_ratio=pixel_scale_ratio)
    wcs_out = rs.rectified_wcs(grid)

    result = drizzle_slit(model, sample, wcs_out, grid.shape, pixfrac, kernel, weight_type, pixel_scale_ratio)

    out = output_model(model, result, wcs_out, grid.dispaxis)
    set_metadata(out, model, pixfrac, kernel, weight_type, pixel_scale_ratio)
    corners = rs.parse_s_region(model.meta.wcsinfo.s_region)
    if corners is not None:
        ny, nx = grid.shape
        ra, dec, _ = wcs_out([0.0, nx - 1.0], [0.0, ny - 1.0])
        band = rs.band_footprint(corners, (ra[0], dec[0]), (ra[1], dec[1]))
        put(out.meta.wcsinfo, "s_region", rs.format_s_region(band))
    xpos, ypos = getattr(model, "source_xpos", None), getattr(model, "source_ypos", None)
    if xpos is not None and ypos is not None:  # detector -> output pixels
        ra, dec, lam = wcs_in(xpos, ypos)
        x, y = wcs_out.invert(ra, dec, lam)
        out.source_xpos, out.source_ypos = float(x), float(y)
    return out


