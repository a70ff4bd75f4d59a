"""NIRSpec extract_2d: one SlitModel per open fixed slit (a MultiSlitModel), or the single
S1600A1 SlitModel of a bright-object time series.

Each cut-out is the slit's bounding box from assign_wcs, rounded to whole pixels; its WCS
is the exposure's with the slit id fixed and a shift to the cut-out's origin prepended,
so pixel (0, 0) of the cut-out maps as the full-frame pixel it came from. The wavelength
of every cut-out pixel is evaluated once here (float32, as jwst stores it) and reused by
wavecorr, flat_field, pathloss and photom.
"""

from __future__ import annotations

import numpy as np

from spec2.models import new_model
from spec2.wcs.compiled import compile_model
from spec2.wcs.instrument_cache import InstrumentCache
from spec2.wcs.sregion import format_s_region
from spec2_nirspec.wcs_model import FIXED_SLIT_NUMS, INSTRUMENT_STAGES, fs_slit_id


def _fixed(transform, slit_id):
    """A stage of the exposure's WCS with the slit-id input fixed and the id dropped
    from its outputs (inverse likewise)."""
    from astropy.modeling import fix_inputs
    from astropy.modeling.models import Identity, Mapping

    if transform is None:
        return None
    if transform.name == "gwa2slit":
        fixed = transform.get_model(slit_id)
        fixed.name = transform.name
        fixed.inputs, fixed.outputs = transform.inputs[1:], transform.outputs[1:]
        return fixed
    if transform.name == "slit2msa":
        fixed = transform[0].get_model(slit_id) & Identity(1)
        fixed.name = transform.name
        fixed.inputs, fixed.outputs = transform.inputs[1:], transform.outputs[:-1]
        return fixed
    if "name" not in transform.inputs:
        return transform
    keep = [i for i, n in enumerate(transform.outputs) if n != "name"]
    name_out = transform.outputs.index("name")
    drop = Mapping(tuple(keep), n_inputs=transform.n_outputs)
    drop.inverse = Identity(len(keep))
    fixed = fix_inputs(transform, {"name": slit_id}) | drop
    fixed.name = transform.name
    fixed.outputs = tuple(transform.outputs[i] for i in keep)
    try:  # has_inverse() would build a compound's inverse once more just to ask
        inverse = transform.inverse
    except NotImplementedError:
        inverse = None
    if inverse is not None:
        n_out = inverse.n_outputs
        inv_in = inverse.inputs[0] if name_out == 0 else inverse.inputs[-1]
        name_in = transform.inputs.index("name")
        skip = 0 if name_in == 0 else n_out - 1
        inv_drop = Mapping(tuple(i for i in range(n_out) if i != skip), n_inputs=n_out)
        inv_drop.inverse = Identity(n_out - 1)
        fixed.inverse = fix_inputs(inverse, {inv_in: slit_id}) | inv_drop
    return fixed


# The instrument stages of an exposure's WCS are shared by the exposures of a batch
# (wcs_model.instrument_part), and so are their per-slit forms: keyed by the stage
# object (held with the entry) and the slit id. A MOS exposure has a few hundred slits.
_FIXED_STAGES = InstrumentCache(size=1024)


def _fixed_stage(transform, slit_id):
    """``_fixed(transform, slit_id)``, reused for the instrument part's stages, which are
    never changed once built; other stages (the sky part) are fixed anew."""
    if transform is None or transform.name not in INSTRUMENT_STAGES:
        return _fixed(transform, slit_id)
    return _FIXED_STAGES.get((id(transform), slit_id), lambda: _fixed(transform, slit_id), keep=[transform])


def slit_wcs(full_wcs, name):
    """The WCS of one slit (by name or id) with its bounding box, slit id fixed."""
    import gwcs

    slit_id = fs_slit_id(str(name).upper()) if str(name).upper() in FIXED_SLIT_NUMS else name
    ids = full_wcs.get_transform("gwa", "slit_frame").slit_ids
    if slit_id not in ids:
        raise ValueError(f"slit {name} is not open in this exposure")
    wcs = gwcs.WCS([(step.frame, _fixed_stage(step.transform, slit_id)) for step in full_wcs.pipeline])
    if full_wcs.bounding_box is not None:
        wcs.bounding_box = full_wcs.bounding_box[slit_id]
    return wcs


def _to_index(interval):
    """Pixel-edge interval -> (first, stop) slice indices: both edges rounded to the
    pixel they fall in (as gwcs.utils.to_index; the stop pixel is excluded)."""
    lo, hi = interval
    return int(np.floor(lo + 0.5)), int(np.floor(hi + 0.5))


def cut_out(model, slit):
    """(SlitModel, xlo, ylo) for one open slit of an assigned exposure."""
    from astropy.modeling.models import Shift
    from gwcs.wcstools import grid_from_bounding_box
    from stdatamodels.jwst.datamodels import SlitModel

    wcs = slit_wcs(model.meta.wcs, slit.name)
    xlo, xhi = _to_index(wcs.bounding_box[0])
    ylo, yhi = _to_index(wcs.bounding_box[1])
    to_sca = Shift(xlo) & Shift(ylo) | wcs.get_transform("detector", "sca")
    wcs.set_transform("detector", "sca", to_sca.rename("dms2sca"))
    window = np.s_[..., ylo:yhi, xlo:xhi]
    data = model.data[window].copy()
    wcs.bounding_box = ((-0.5, data.shape[-1] - 0.5), (-0.5, data.shape[-2] - 0.5))
    x, y = grid_from_bounding_box(wcs.bounding_box, step=(1, 1))
    # only the wavelength is kept: it leaves the instrument model at slit_frame (metres)
    # and reaches the world frame through one scale to microns, so the rest of the
    # chain (fore optics, telescope, sky) need not be evaluated
    to_slit = compile_model(wcs.get_transform("detector", "slit_frame"))
    wavelength = (to_slit(x, y)[2] * 1e6).astype(np.float32)
    int_times = model.int_times.copy() if data.ndim == 3 and _is_tso(model) else None
    out = new_model(
        SlitModel,
        data=data, err=model.err[window].copy(), dq=model.dq[window].copy(), wavelength=wavelength,
        var_rnoise=model.var_rnoise[window].copy(), var_poisson=model.var_poisson[window].copy(),
        int_times=int_times,
    )
    out.update(model)
    out.meta.wcs = wcs
    out.meta.wcsinfo.dispersion_direction = model.meta.wcsinfo.dispersion_direction
    out.name = str(slit.name)
    out.xstart, out.xsize = xlo + 1, xhi - xlo
    out.ystart, out.ysize = ylo + 1, yhi - ylo
    out.source_id = int(slit.source_id)
    out.slit_ymin, out.slit_ymax = slit.ymin, slit.ymax
    out.shutter_id = int(slit.shutter_id)
    return out


def _is_tso(model) -> bool:
    from spec2.steps.srctype import is_time_series

    return is_time_series(model)


def source_position_in_slit(slit_model):
    """(x, y) of the target in the slit frame from the dither offsets, or (0, 0) when the
    exposure lacks them. Offsets are ideal-frame arcsec about the aperture reference
    point; the slit frame is reached from V2/V3 through the WCS (at 2 um: the position
    does not depend on wavelength)."""
    dither, w = slit_model.meta.dither, slit_model.meta.wcsinfo
    if dither.x_offset is None or dither.y_offset is None:
        return 0.0, 0.0
    from stdatamodels.jwst.transforms.models import IdealToV2V3

    # jwst's own model keeps the arithmetic identical (the result feeds later steps)
    v2, v3 = IdealToV2V3(w.v3yangle, w.v2_ref, w.v3_ref, w.vparity)(dither.x_offset, dither.y_offset)
    xpos, ypos, _ = slit_model.meta.wcs.get_transform("v2v3", "slit_frame")(v2, v3, 2.0)
    return xpos, ypos


def s_region(slit_model):
    """(S_REGION of the slit's corners on the sky, (lambda_min, lambda_max))."""
    to_world = slit_model.meta.wcs.get_transform("slit_frame", "world")
    corners_x = [-0.5, -0.5, 0.5, 0.5]
    corners_y = [slit_model.slit_ymin, slit_model.slit_ymax, slit_model.slit_ymax, slit_model.slit_ymin]
    ra, dec, lam = to_world(corners_x, corners_y, [2e-6] * 4)
    return format_s_region(np.array([ra, dec]).T), (np.nanmin(lam), np.nanmax(lam))


def _finish(slit_model, primary: bool):
    if primary:
        slit_model.source_xpos, slit_model.source_ypos = source_position_in_slit(slit_model)
    else:
        slit_model.source_xpos, slit_model.source_ypos = 0.0, 0.0
    region, spectral = s_region(slit_model)
    if region is not None:
        slit_model.meta.wcsinfo.s_region = region
    slit_model.meta.wcsinfo.spectral_region = spectral


def extract_fixed_slits(model):
    """MultiSlitModel of every open slit (FS), or the S1600A1 SlitModel (BOTS)."""
    from stdatamodels.jwst.datamodels import MultiSlitModel

    slits = model.meta.wcs.get_transform("gwa", "slit_frame").slits
    if model.meta.exposure.type == "NRS_BRIGHTOBJ":
        out = cut_out(model, slits[0])
        _finish(out, primary=True)
        return out
    out = new_model(MultiSlitModel)
    out.update(model)
    primary = model.meta.instrument.fixed_slit
    for slit in slits:
        cut = cut_out(model, slit)
        _finish(cut, primary=slit.name == primary)
        cut.meta.bunit_data = model.meta.bunit_data
        cut.meta.bunit_err = model.meta.bunit_err
        out.slits.append(cut)
    return out
