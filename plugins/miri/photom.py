"""MIRI LRS photom: DN/s to MJy/sr with the MirLrsPhotomModel response curve."""

from __future__ import annotations

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.photom import (
    MJSR_TO_UJA2,
    apply_where_defined,
    find_row,
    sorted_response,
    spectral_conversion,
    time_dependence,
    time_tables,
)
from spec2.algorithms.subarray import window
from spec2.errors import ReferenceFileError


def apply_lrs_photom(model, photom, area=None):
    """Convert an LRS SlitModel (2-D or 3-D) from DN/s to MJy/sr in place; return it.

    Row selection: FILTER and SUBARRAY (falling back to SUBARRAY=GENERIC). The factor is
    PHOTMJSR / time dependence x relresponse(lambda); pixels without a response become
    NaN and DO_NOT_USE. Pixel area keywords come from the area reference when given,
    else from the photom file's header.
    """
    filt, subarray = model.meta.instrument.filter, model.meta.subarray.name
    table = photom.phot_table
    index = find_row(table, filter=filt, subarray=subarray)
    if index is None:
        index = find_row(table, filter=filt, subarray="GENERIC")
    if index is None:
        raise ReferenceFileError(f"photom reference has no row for FILTER={filt} SUBARRAY={subarray}")
    row = table[index]
    scalar = float(row["photmjsr"])
    tables = time_tables(photom, index, filter=filt, subarray=subarray)
    if tables and model.meta.exposure.mid_time is not None:
        scalar /= time_dependence(model.meta.exposure.mid_time, **tables)
    wl_tab, rr_tab = sorted_response(row["wavelength"], row["relresponse"], int(row["nelem"]) or None)
    # Only where the wavelength is defined can there be a factor; elsewhere the pixels
    # end NaN and DO_NOT_USE whatever their value, so they are set so directly.
    region = dqflags.finite_region(model.wavelength)
    conversion = no_cal = None
    if region is not None:
        conversion, no_cal = spectral_conversion(scalar, model.wavelength[region], wl_tab, rr_tab)
    apply_where_defined(region, conversion, model.data, model.err, model.dq,
                        (model.var_poisson, model.var_rnoise, model.var_flat), no_factor=no_cal)

    model.meta.photometry.conversion_megajanskys = scalar
    model.meta.photometry.conversion_microjanskys = scalar * MJSR_TO_UJA2
    sr, a2 = photom.meta.photometry.pixelarea_steradians, photom.meta.photometry.pixelarea_arcsecsq
    if area is not None:
        sub = model.meta.subarray
        cut = window((sub.xstart or 1, sub.ystart or 1), model.data.shape, source_shape=area.data.shape)
        if cut is None:
            raise ReferenceFileError(f"area reference does not cover subarray {sub.name}")
        model.area = np.array(area.data[cut], np.float32)
        sr = area.meta.photometry.pixelarea_steradians or sr
        a2 = area.meta.photometry.pixelarea_arcsecsq or a2
    if sr is not None:
        model.meta.photometry.pixelarea_steradians = float(sr)
    if a2 is not None:
        model.meta.photometry.pixelarea_arcsecsq = float(a2)
    model.meta.bunit_data = model.meta.bunit_err = "MJy/sr"
    return model
