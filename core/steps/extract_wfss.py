"""extract_1d for wide-field slitless exposures: every cut-out box-extracted whole, then
the spectra gathered into jwst's WFSS x1d layout (WFSSMultiSpecModel: one table per
spectral order, one row per source, vector columns padded with NaN to the longest
spectrum, plus the source's identity columns).

As jwst 3.0.0 does for NIS_WFSS/NRC_WFSS: no extract1d reference (the whole cut-out is
the aperture), no source-position tracking, FLUX in Jy from MJy/sr x the slit's pixel
area, and for point sources the aperture correction (a table of size in pixels by
wavelength, matched on FILTER and PUPIL) applied element by element.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.models import new_model
from spec2.steps.extract_slit import (
    apcorr_row,
    aperture_profile,
    column_units,
    extraction_parameters,
    fill_spec_meta,
    single_spec,
    spectral_wcs,
    sum_aperture,
    tabulated_apcorr,
)

log = logging.getLogger("spec2")


def group_id(observation, order):
    """jwst's identity of an exposure's spectra of one order (the x1d table key)."""
    keys = ("program_number", "observation_number", "visit_number", "visit_group", "sequence_id",
            "activity_id", "exposure_number")
    o = {k: getattr(observation, k, None) for k in keys}
    missing = [k for k, v in o.items() if v is None]
    if missing:
        from spec2.errors import InputError

        raise InputError(f"the exposure lacks meta.observation {', '.join(missing)} (needed to label its spectra)")
    return (f"jw{o['program_number']}{o['observation_number']}{o['visit_number']}_{o['visit_group']}"
            f"{o['sequence_id']}{o['activity_id']}_{o['exposure_number']}_{order}")


def extract_slit(slit, model, options, correction_row=None):
    """The SpecModel of one cut-out."""
    shape = slit.data.shape
    disp = slit.meta.wcsinfo.dispersion_direction
    order = slit.meta.wcsinfo.spectral_order
    source_type = slit.source_type
    params = extraction_parameters(None, slit.name, shape, order, False, **options)
    if params["use_source_posn"]:
        log.warning("use_source_posn is not supported for WFSS: the whole cut-out is extracted")
    wavelength = np.asarray(slit.wavelength, float)
    profile, (lower, upper) = aperture_profile(shape, params, wavelength, disp)
    profile[~np.isfinite(wavelength)] = 0.0
    first, last = ex.dispersion_range(profile, disp)
    sums, wl, valid, (ra, dec) = sum_aperture(slit, profile, None, params, wavelength, disp,
                                              what=f"the cut-out of source {slit.name}")
    calibrated = (model.meta.cal_step.photom or "").upper() == "COMPLETE"
    pixel_sr = (slit.meta.photometry.pixelarea_steradians or 1.0) if calibrated else None
    cols = {k: v[..., valid] for k, v in ex.table_columns(sums, pixel_sr).items()}
    if correction_row is not None and str(source_type or "").upper() == "POINT":
        ex.apply_correction(cols, tabulated_apcorr(correction_row, cols["NPIXELS"], wl))
    spec = single_spec(cols, wl, column_units(calibrated))
    spec.meta.wcs = spectral_wcs(ra, dec, wl)
    fill_spec_meta(spec, slit, slit.name, ra, dec, (lower, upper, first, last), order, source_type, disp,
                   exposure=model)
    spec.extract2d_xstart, spec.extract2d_ystart = slit.xstart, slit.ystart
    spec.extract2d_xstop, spec.extract2d_ystop = slit.xstart + slit.xsize, slit.ystart + slit.ysize
    return spec


def wfss_table(specs, filename, group, exposure_time, integration_time, source_ids=None):
    """One WFSSSpecModel: a row per source (sorted by id), vector columns NaN-padded.
    ``source_ids`` (default: those of ``specs``) lists every source of the exposure: as
    jwst, each order's table has a row for each, empty (schema defaults, N_ALONGDISP 0)
    where the source has no spectrum in that order."""
    from stdatamodels.jwst import datamodels

    out = datamodels.WFSSSpecModel()
    schema = out.schema["properties"]["spec_table"]
    vector = {c["name"] for c in new_model(datamodels.SpecModel).schema["properties"]["spec_table"]["datatype"]}
    columns = [(c["name"], np.dtype(out.get_dtype("spec_table")[c["name"]])) for c in schema["datatype"]]
    defaults = schema["default"]
    n_rows = max(s.spec_table.shape[0] for s in specs)
    ids = np.sort(np.unique([s.source_id for s in specs] if source_ids is None else source_ids))
    dtype = [(name, dt, (n_rows,)) if name in vector else (name, dt) for name, dt in columns]
    table = np.empty(ids.size, dtype=dtype)
    for (name, dt), default in zip(columns, defaults):
        table[name] = np.full(table[name].shape, default, dtype=dt)
    table["SOURCE_ID"] = ids
    meta_columns = [name for name, _ in columns if name not in vector and name not in ("SOURCE_ID", "N_ALONGDISP")]
    for spec in specs:
        row = table[np.nonzero(ids == spec.source_id)[0][0]]
        n = spec.spec_table.shape[0]
        for name in vector:
            row[name][:n] = spec.spec_table[name]
        for name in meta_columns:
            value = getattr(spec, name.lower(), None)
            if value is not None:
                row[name] = value
        row["N_ALONGDISP"] = n
        table[np.nonzero(ids == spec.source_id)[0][0]] = row
    out.spec_table = table
    for c in schema["datatype"]:
        if "unit" in c:
            out.spec_table.columns[c["name"]].unit = c["unit"]
    for name in specs[0].spec_table.columns.names:
        out.spec_table.columns[name].unit = specs[0].spec_table.columns[name].unit
    out.filename = filename
    out.group_id = group
    out.dispersion_direction = specs[0].dispersion_direction
    out.spectral_order = specs[0].spectral_order
    out.exposure_time, out.integration_time = exposure_time, integration_time
    return out


def calibrated_name(filename):
    """The ``_cal`` file the spectra come from, named from the exposure's file (jwst
    records the path it wrote the ``_cal`` to; spec2 records its name)."""
    if not filename:
        return None
    stem = str(filename).rsplit("/", 1)[-1]
    for suffix in ("_rate.fits", "_rateints.fits", "_cal.fits"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)] + "_cal.fits"
    return stem


def extract_wfss(model, apcorr=None, *, match=None, options=None, filename=None):
    """The WFSSMultiSpecModel of a calibrated WFSS MultiSlitModel: one table per order,
    in the order the orders first appear. ``apcorr`` (or None) is the open aperture
    correction reference, ``match`` its row keys ({"filter": ..., "pupil": ...});
    ``options`` the extraction keywords of :func:`extraction_parameters`."""
    from stdatamodels.jwst import datamodels

    options = dict(options or {})
    row = apcorr_row(apcorr, **match) if apcorr is not None else None
    by_order: dict[str, list] = {}
    for slit in model.slits:
        spec = extract_slit(slit, model, options, row)
        by_order.setdefault(group_id(model.meta.observation, spec.spectral_order), []).append(spec)
    out = datamodels.WFSSMultiSpecModel()
    if filename is None:
        filename = calibrated_name(model.meta.filename)
    every_source = [s.source_id for specs in by_order.values() for s in specs]
    for group, specs in by_order.items():
        out.spec.append(wfss_table(specs, filename, group, model.meta.exposure.exposure_time,
                                   model.meta.exposure.integration_time, every_source))
    out.update(model, only="PRIMARY")
    log.info("%d spectra in %d table(s)", sum(len(s) for s in by_order.values()), len(by_order))
    return out
