"""Comparing spec2's NIRSpec MOS products with jwst 3.0.0's, slit by slit and spectrum by
spectrum (shared by test_mos_end_to_end.py and test_mos_extract1d.py)."""

from __future__ import annotations

import numpy as np

CAL_ARRAYS = ("data", "dq", "err", "var_poisson", "var_rnoise", "var_flat", "wavelength", "barshadow",
              "pathloss_point", "pathloss_uniform")
S2D_ARRAYS = ("data", "dq", "err", "var_poisson", "var_rnoise", "var_flat", "wavelength")
# metadata jwst writes that spec2 does not: stpipe's SKIPPED for jwst steps spec2 does not
# implement (off by default in calwebb_spec2), the association bookkeeping resample_spec
# copies, the software version, and what differs by nature (dates, file names, logs)
JWST_ONLY_STEPS = ("badpix_selfcal", "clean_flicker_noise", "adaptive_trace_model", "pixel_replace")
NOT_COMPARED = ("date", "filename", "cal_logs", "ref_file.", "calibration_software_", "asn.", "group_id",
                *(f"cal_step.{s}" for s in JWST_ONLY_STEPS))
X1D_COLUMNS = ("WAVELENGTH", "FLUX", "FLUX_ERROR", "FLUX_VAR_POISSON", "FLUX_VAR_RNOISE", "FLUX_VAR_FLAT",
               "SURF_BRIGHT", "SB_ERROR", "SB_VAR_POISSON", "SB_VAR_RNOISE", "SB_VAR_FLAT", "DQ", "BACKGROUND",
               "BKGD_ERROR", "BKGD_VAR_POISSON", "BKGD_VAR_RNOISE", "BKGD_VAR_FLAT", "NPIXELS")


def flat_meta(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flat_meta(value, f"{prefix}{key}."))
        elif not hasattr(value, "shape"):
            out[prefix + key] = value
    return out


def compared_meta(meta):
    """The metadata keywords compared (everything but NOT_COMPARED and the WCS)."""
    return {k: v for k, v in flat_meta(meta).items() if not k.startswith(NOT_COMPARED) and k != "wcs"}


def assert_same_slits(ours, theirs, arrays):
    """Every slit's ``arrays`` identical, every attribute and metadata keyword equal;
    returns the number of slits compared."""
    assert [s.name for s in ours.slits] == [s.name for s in theirs.slits]
    for a, b in zip(ours.slits, theirs.slits, strict=True):
        for name in arrays:
            x, y = getattr(a, name, None), getattr(b, name, None)
            if y is None or np.size(y) == 0:
                assert x is None or np.size(x) == 0, (a.name, name)
                continue
            np.testing.assert_array_equal(x, y, err_msg=f"slit {a.name} {name}")
        # every attribute of the slit (MSA metadata, corrections' bookkeeping) and its meta
        for key, value in b.instance.items():
            if key in ("meta", "cal_logs", *arrays) or hasattr(value, "shape"):
                continue
            assert a.instance.get(key) == value, (a.name, key)
        assert compared_meta(a.meta.instance) == compared_meta(b.meta.instance), a.name
    return len(ours.slits)


def spectrum_difference(ours, theirs, column):
    """Largest relative difference of one x1d column (0 where both are equal, NaNs
    included); the positions of NaNs must agree."""
    a, b = (np.asarray(s.spec_table[column], float) for s in (ours, theirs))
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{ours.name} {column} NaNs")
    differ = np.isfinite(b) & (a != b)
    if not differ.any():
        return 0.0
    return float(np.max(np.abs(a[differ] - b[differ]) / np.abs(b[differ])))


def spectra_differences(ours, theirs):
    """Compare two x1d products spectrum by spectrum: the same spectra in the same order,
    every attribute equal (extraction limits, MSA metadata, source position), every
    column's unit equal; returns {(spectrum name, column): largest relative difference}
    (see spectrum_difference)."""
    assert [s.name for s in ours.spec] == [s.name for s in theirs.spec]
    out = {}
    for a, b in zip(ours.spec, theirs.spec, strict=True):
        for key, value in b.instance.items():
            if key not in ("spec_table", "meta"):
                assert a.instance.get(key) == value, (a.name, key)
        assert compared_meta(a.meta.instance) == compared_meta(b.meta.instance), a.name
        for column in X1D_COLUMNS:
            assert a.spec_table.columns[column].unit == b.spec_table.columns[column].unit, (a.name, column)
            out[(a.name, column)] = spectrum_difference(a, b, column)
    return out
