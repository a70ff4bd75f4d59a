"""NIRSpec fixed-slit resample_spec: each calibrated slit drizzled onto a rectified grid
(the _s2d, a MultiSlitModel with one resampled slit per input slit).

The output grid is jwst's for NIRSpec slits. The tangent point is the slit position of
the brightness-weighted mean along the slit (weights clipped at 100 sigma) at the mean
wavelength; the spatial axis is a straight-line fit of the tangent-plane offsets of the
middle detector column, scaled by the pixel-scale ratio, sized to span the slit's whole
sky extent and centred on it. The wavelength axis is tabular: the median wavelength of
each detector column, sorted, extrapolated half a pixel at both ends. A ``slit_frame``
(0, slit y per output row, wavelength) sits between detector and world, so source
positions in the slit can be mapped into the output.
"""

from __future__ import annotations

import numpy as np

from spec2.models import new_model
from spec2.wcs.compiled import compile_model
from spec2.wcs.sregion import format_s_region


def evaluate_on_grid(wcs):
    """((x, y) of the WCS's bounding-box pixel grid, (ra, dec, lambda) there, (x_slit,
    y_slit, lambda) there): the one evaluation of the slit's chain that the output grid
    and the pixel map both use. The chain is evaluated to the slit frame and from there
    to the sky, which is what ``wcs(x, y)`` computes (the grid lies inside the bounding
    box), without evaluating the instrument model a second time for the slit frame."""
    from gwcs.wcstools import grid_from_bounding_box

    grid = grid_from_bounding_box(wcs.bounding_box)
    to_slit = compile_model(wcs.get_transform(wcs.available_frames[0], "slit_frame"))
    slit = tuple(np.asarray(v, dtype=float) for v in to_slit(*grid))
    world = compile_model(wcs.get_transform("slit_frame", "world"))(*slit)
    return grid, tuple(np.asarray(v, dtype=float) for v in world), slit


def sampling_wavelengths(lam):
    """Sorted median wavelength of each column (with any finite value) of the bounding-box
    grid's wavelengths, with points closer than a tenth of the smallest step removed."""
    with np.errstate(all="ignore"):
        ref = sorted(np.nanmedian(lam[:, np.any(np.isfinite(lam), axis=0)], axis=0))
    if not ref:
        return ref
    min_delta = np.fabs(np.ediff1d(ref).min()) if len(ref) > 1 else 0.0
    close = np.flatnonzero(np.fabs(np.ediff1d(ref)) < max(0.1 * min_delta, 1e2 * np.finfo(1.0).eps))
    for i in close[::-1]:
        del ref[i]
    return ref


def output_wcs(slit, pixel_scale_ratio=1.0, world=None):
    """The rectified gwcs (detector -> slit_frame -> world) of one NIRSpec slit;
    ``world`` is evaluate_on_grid(slit WCS) if already computed."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling.fitting import LinearLSQFitter
    from astropy.modeling.models import (
        Const1D,
        Linear1D,
        Mapping,
        Pix2Sky_TAN,
        RotateNative2Celestial,
        Tabular1D,
    )
    from astropy.stats import sigma_clip
    from gwcs import WCS
    from gwcs import coordinate_frames as cf

    wcs = slit.meta.wcs
    data = slit.data.copy()
    with np.errstate(all="ignore"):
        data -= np.nanmin(data) if np.isfinite(data).any() else 0.0
    # compiled: the values astropy computes, without its per-node overhead
    s2w = compile_model(wcs.get_transform("slit_frame", "world"))
    w2s = compile_model(wcs.get_transform("world", "slit_frame"))
    bbox = wcs.bounding_box
    _grid, (ra, dec, world_lam), (_, s, lam) = world if world is not None else evaluate_on_grid(wcs)
    good = np.isfinite(s) & np.isfinite(lam) & np.isfinite(data)
    data[~good] = np.nan
    # NaNs are masked up front: sigma_clip would mask them itself, with a warning
    weights = np.ma.filled(sigma_clip(np.ma.masked_invalid(data), masked=True, sigma=100.0), fill_value=0.0)
    if not np.all(weights == 0.0):
        wmean_s = np.average(s[good], weights=weights[good])
    else:
        wmean_s = np.nanmean(s)
    wmean_l = np.nanmean(lam)
    targ_ra, targ_dec = (float(v) for v in s2w(0, wmean_s, wmean_l)[:2])

    centre = int(np.mean(bbox, axis=1)[0])
    # the sky positions of the grid's middle column (already evaluated above)
    ra_ref, dec_ref = ra[:, centre], dec[:, centre]
    undist2sky = Pix2Sky_TAN() | RotateNative2Celestial(targ_ra, targ_dec, 180)
    x_tan, y_tan = undist2sky.inverse(ra_ref, dec_ref)
    keep = ~(np.isnan(x_tan) | np.isnan(y_tan))
    x_tan, y_tan = x_tan[keep], y_tan[keep]
    fitter = LinearLSQFitter()
    x_idx = np.linspace(0, x_tan.shape[0] * pixel_scale_ratio, x_tan.shape[0], endpoint=False)
    y_idx = np.linspace(0, y_tan.shape[0] * pixel_scale_ratio, y_tan.shape[0], endpoint=False)
    pix_to_xtan = fitter(Linear1D(), x_idx, x_tan)
    pix_to_ytan = fitter(Linear1D(), y_idx, y_tan)
    swap_xy = abs(pix_to_xtan.slope) < abs(pix_to_ytan.slope)

    ref_lam = sampling_wavelengths(world_lam)
    n_lam = len(ref_lam)
    if not n_lam:
        raise ValueError(f"slit {slit.name}: no finite wavelength to build the output grid")
    # the slit's extent on the tangent plane
    ok = np.isfinite(ra) & np.isfinite(dec)
    xt, yt = undist2sky.inverse(ra[ok], dec[ok])
    min_x, max_x, min_y, max_y = np.min(xt), np.max(xt), np.min(yt), np.max(yt)
    diff_y, diff_x = np.abs(max_y - min_y), np.abs(max_x - min_x)
    slope_y, sign_y = np.abs(pix_to_ytan.slope), np.sign(pix_to_ytan.slope)
    slope_x, sign_x = np.abs(pix_to_xtan.slope), np.sign(pix_to_xtan.slope)
    ny = int(np.ceil(diff_y / slope_y)) + 1 if swap_xy else int(np.ceil(diff_x / slope_x)) + 1
    offset_y = ny / 2 * slope_y - diff_y / 2
    offset_x = ny / 2 * slope_x - diff_x / 2
    zero_y = min_y if sign_y > 0 else max_y
    zero_x = min_x if sign_x > 0 else max_x
    pix_to_ytan.intercept = zero_y - sign_y * offset_y
    pix_to_xtan.intercept = zero_x - sign_x * offset_x

    pixel = list(range(n_lam))
    if len(pixel) > 1:
        step = (ref_lam[1] - ref_lam[0]) / pixel[1]
        ref_lam.insert(0, -0.5 * step + ref_lam[0])
        pixel.insert(0, -0.5)
        step = (ref_lam[-1] - ref_lam[-2]) / (pixel[-1] - pixel[-2])
        ref_lam.append(step * (pixel[-1] + 0.5) + ref_lam[-2])
        pixel.append(pixel[-1] + 0.5)
    else:
        ref_lam, pixel = 3 * ref_lam, [-0.5, 0, 0.5]
    to_wave = Tabular1D(points=pixel, lookup_table=ref_lam, bounds_error=False, fill_value=np.nan)
    mapping = Mapping((1, 1, 0))
    mapping.inverse = Mapping((2, 1)) if swap_xy else Mapping((2, 0))
    pix2world = mapping | (pix_to_xtan & pix_to_ytan | undist2sky) & to_wave

    slit_y = w2s(*compile_model(pix2world)(np.full(ny, n_lam // 2), np.arange(ny)))[1]
    to_slit_y = Tabular1D(points=np.arange(ny), lookup_table=slit_y, bounds_error=False, fill_value=None)
    mapping = Mapping((0, 1, 0))
    inverse_mapping = Mapping((2, 1), n_inputs=3)
    inverse_mapping.inverse = mapping
    mapping.inverse = inverse_mapping
    zero = Const1D(0)
    zero.inverse = zero
    det2slit = mapping | zero & to_slit_y & to_wave
    slit2world = det2slit.inverse | pix2world

    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    slit_frame = cf.CompositeFrame([cf.Frame2D(name="slit_spatial", axes_order=(0, 1), unit=("", ""),
                                               axes_names=("x_slit", "y_slit")), spec], name="slit_frame")
    world = cf.CompositeFrame([cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS()),
                               spec], name="world")
    out = WCS([(cf.Frame2D(name="detector", axes_order=(0, 1)), det2slit), (slit_frame, slit2world), (world, None)])
    out.bounding_box = ((-0.5, n_lam - 0.5), (-0.5, ny - 0.5))
    out.array_shape = (ny, n_lam)
    return out


def spectral_footprint(wcs, shape):
    """S_REGION of a resampled slit (RA/Dec range over its grid) and its wavelength range."""
    from gwcs.wcstools import grid_from_bounding_box

    box = wcs.bounding_box or ((-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5))
    with np.errstate(all="ignore"):
        # the grid lies inside the bounding box: the forward transform alone computes
        # what wcs(x, y) does there, compiled to skip astropy's per-node call overhead
        ra, dec, lam = compile_model(wcs.forward_transform)(*grid_from_bounding_box(box))
    ra = np.where(ra > 180.0, ra - 360.0, ra) if (np.nanmax(ra) - np.nanmin(ra)) > 180 else ra
    lo, hi = np.nanmin(ra), np.nanmax(ra)
    lo, hi = (lo + 360.0 if lo < 0 else lo), (hi - 360.0 if hi >= 360.0 else hi)
    footprint = [[lo, np.nanmin(dec)], [hi, np.nanmin(dec)], [hi, np.nanmax(dec)], [lo, np.nanmax(dec)]]
    return format_s_region(footprint), (np.nanmin(lam), np.nanmax(lam))


def standalone_slit(slit, exposure):
    """One slit of a MultiSlitModel as a SlitModel with the exposure's metadata merged
    in (the slit keeps its units, model type, WCS keywords and exposure type), as jwst
    regroups slits by source before resampling. Nothing of the input is modified; the
    arrays are shared (resampling only reads them) and the exposure's own WCS, which the
    slit's replaces, is not copied."""
    import copy

    from stdatamodels.jwst import datamodels
    from stdatamodels.properties import merge_tree

    own = slit.meta
    keep = (own.bunit_data, own.bunit_err, own.model_type, copy.deepcopy(own.wcsinfo.instance),
            own.exposure.type if own.hasattr("exposure") else None)
    tree = {k: v for k, v in slit.instance.items() if k != "meta"}
    tree["meta"] = copy.deepcopy({k: v for k, v in own.instance.items() if k != "wcs"})
    merge_tree(tree["meta"], copy.deepcopy({k: v for k, v in exposure.meta.instance.items() if k != "wcs"}))
    out = new_model(datamodels.SlitModel, tree)
    out.meta.bunit_data, out.meta.bunit_err, out.meta.model_type = keep[0], keep[1], keep[2]
    out.meta.wcsinfo = keep[3]
    if keep[4] is not None:
        out.meta.exposure.type = keep[4]
    out.meta.wcs = slit.meta.wcs
    return out


def resample_fixed_slits(model, pixfrac=1.0, kernel="square", weight_type="ivm", pixel_scale_ratio=1.0):
    """Resample every slit of a calibrated fixed-slit MultiSlitModel (not modified);
    returns the _s2d MultiSlitModel."""
    from stdatamodels.jwst import datamodels

    from spec2.algorithms import resample as rs
    from spec2.steps.resample_slit import drizzle_slit, output_model, set_metadata

    result = new_model(datamodels.MultiSlitModel)
    result.update(model)
    for original in model.slits:
        slit = standalone_slit(original, model)
        world = evaluate_on_grid(slit.meta.wcs)
        wcs_out = output_wcs(slit, pixel_scale_ratio, world)
        shape = wcs_out.array_shape
        sample = rs.sample_wcs(slit.meta.wcs, slit.data.shape, evaluated=world[1])
        arrays = drizzle_slit(slit, sample, wcs_out, shape, pixfrac, kernel, weight_type, pixel_scale_ratio)
        out = output_model(slit, arrays, wcs_out, dispaxis=1)
        set_metadata(out, slit, pixfrac, kernel, weight_type, pixel_scale_ratio)
        region, spectral = spectral_footprint(wcs_out, shape)
        if region is not None:
            out.meta.wcsinfo.s_region = region
        out.meta.wcsinfo.spectral_region = spectral
        for name in ("shutter_id", "pathloss_correction_type", "wavelength_corrected"):
            value = getattr(slit, name, None)
            if value is not None:
                setattr(out, name, value)
        result.slits.append(out)
    result.meta.cal_step.resample = "COMPLETE"
    result.meta.resample.pixel_scale_ratio = pixel_scale_ratio
    result.meta.resample.pixfrac = pixfrac
    return result
