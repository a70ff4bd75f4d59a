"""NIRCam grism time series (NRC_TSGRISM): unit checks, closure against the injected
spectrum and transit, step-by-step parity with jwst 3.0.0, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from spec2_nircam.extract_2d import cutout_rows
from tests.nircam.conftest import (
    NINTS,
    STEPS,
    same_tsgrism_product,
    same_x1dints,
    spec2_failure,
)


@pytest.mark.parametrize(("height", "ysize", "expected"), [
    (64, 64, (0, 63)),     # SUBGRISM64, the default height: the whole subarray
    (64, 128, (0, 63)),    # SUBGRISM128: the default 64-row band, the source on row 34
    (64, 256, (0, 63)),    # SUBGRISM256
    (64, 2048, (0, 63)),   # full frame: the same rows (jwst assumes the source near row 34)
    (256, 256, (0, 255)),  # 34 - 128 < 0: rows 0 .. height - 1
    (40, 256, (0, 39)),    # 34 - 20 >= 0: rows 34 - 34 .. 34 + 40 - 34 - 1
    (1, 64, (0, 34)),      # jwst's special case: 34 - 0 == 34 keeps rows 0 .. 34
    (80, 64, (0, 64)),     # taller than the subarray: clipped (at ysize, as jwst)
])
def test_cutout_rows(height, ysize, expected):
    assert cutout_rows(height, ysize) == expected


def test_tsgrism_wavelength_by_hand():
    """One pixel's wavelength from the simulated specwcs, computed by hand: column 1087
    for the source at XREF_SCI = 887 is dx = 200, t = (200 + 750) / 1600; the field terms
    at (887, 35) and the barycentric factor 1 / (1 + v/c)."""
    from spec2.algorithms.grism import wavelength_at_pixels
    from spec2_nircam import instrument as ins
    from spec2_nircam.sim.tsgrism import VELOSYS, order1

    x0, y0 = ins.TSO_REF
    t = 950.0 / 1600.0
    coeff = [c + dx * (x0 - 1024.0) + dy * (y0 - 1024.0) for c, dx, dy in ins.LAMBDA_COEFFS]
    lam = coeff[0] + coeff[1] * t + coeff[2] * t**2
    assert wavelength_at_pixels(order1(), 1087.0, None, x0, y0) == pytest.approx(lam, rel=1e-14)
    assert 4.5 < lam < 4.6
    assert VELOSYS / 299792458.0 == pytest.approx(-2.7086e-5, rel=1e-3)


# -- end to end --------------------------------------------------------------------------


@pytest.mark.slow
def test_products_and_status_keywords(tsgrism_sim, tsgrism_spec2):
    from stdatamodels.jwst import datamodels

    root = tsgrism_sim["stem"]
    names = {p.name for p in tsgrism_spec2.iterdir()}
    assert {f"{root}_calints.fits", f"{root}_x1dints.fits"} <= names
    with datamodels.open(tsgrism_spec2 / f"{root}_calints.fits") as cal:
        assert isinstance(cal, datamodels.SlitModel) and cal.data.shape == (NINTS, 64, 2048)
        s = cal.meta.cal_step
        assert (s.assign_wcs, s.flat_field, s.extract_2d, s.srctype, s.photom) == ("COMPLETE",) * 5
        assert s.bkg_subtract == "SKIPPED"
        assert cal.meta.ref_file.specwcs.name == "crds://spec2sim_nircam_nrcalong_grismr_specwcs.asdf"
        assert cal.meta.bunit_data == "MJy/sr" and cal.source_type == "POINT"


@pytest.mark.slow
def test_closure_spectrum_and_transit(tsgrism_sim, tsgrism_spec2):
    """Out of transit the spectra recover the injected one (noise ~0.3 % per element and
    integration here; 1 % median, 3 % at the 90th percentile leave room for that but not
    for a missing dispersion term, 10 % across the band), and the white-light curve the
    0.8 % depth within 0.1 %."""
    from stdatamodels.jwst import datamodels

    from spec2_nircam.sim.tsgrism import default_spectrum

    with datamodels.open(tsgrism_spec2 / f"{tsgrism_sim['stem']}_x1dints.fits") as x1d:
        t = x1d.spec[0].spec_table
        wl, flux = np.asarray(t["WAVELENGTH"]), np.asarray(t["FLUX"])
        assert len(x1d.int_times) == NINTS and np.all(np.diff(t["MJD-AVG"]) > 0)
    lc = tsgrism_sim["light_curve"]
    oot = lc == lc.max()
    sel = (wl[0] > 3.95) & (wl[0] < 4.9)
    ratio = np.nanmedian(flux[oot][:, sel], axis=0) / default_spectrum(wl[0][sel])
    assert np.nanmedian(np.abs(ratio - 1)) < 0.01
    assert np.nanpercentile(np.abs(ratio - 1), 90) < 0.03
    white = np.nansum(flux[:, sel], axis=1)
    depth = 1 - np.median(white[lc == lc.min()]) / np.median(white[oot])
    assert depth == pytest.approx(1 - lc.min(), abs=1e-3)


# -- parity with jwst 3.0.0 ----------------------------------------------------------------


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("step", [*STEPS, "calints"])
def test_each_step_matches_jwst(step, tsgrism_sim, tsgrism_jwst, tsgrism_spec2):
    """The model after each step, array by array (AREA included from photom on), bit for
    bit (wavelengths included: the same polynomials evaluated in the same order), and the
    cut-out's metadata."""
    from stdatamodels.jwst import datamodels

    name = f"{tsgrism_sim['stem']}_{step}.fits"
    with datamodels.open(tsgrism_spec2 / name) as a, datamodels.open(tsgrism_jwst / name) as b:
        same_tsgrism_product(a, b, step)


@pytest.mark.parity
@pytest.mark.slow
def test_x1dints_matches_jwst(tsgrism_sim, tsgrism_jwst, tsgrism_spec2):
    """Every table column: WAVELENGTH, FLUX, SURF_BRIGHT, BACKGROUND, NPIXELS, DQ and the
    times bit for bit; the summed variances to 1 ulp (the sums run in another order)."""
    from stdatamodels.jwst import datamodels

    name = f"{tsgrism_sim['stem']}_x1dints.fits"
    with datamodels.open(tsgrism_spec2 / name) as a, datamodels.open(tsgrism_jwst / name) as b:
        same_x1dints(a, b, NINTS)


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("change", "message"), [
    ({"subarray.name": "SUB164STRIPE4_DHS"}, "DHS"),
    ({"wcsinfo.siaf_xref_sci": None}, "XREF_SCI"),
    ({"instrument.module": "B"}, "module A"),
])
def test_unsupported_or_incomplete_exposure_fails_clearly(change, message, tsgrism_sim, tmp_path):
    from stdatamodels.jwst import datamodels

    bad = tmp_path / "jw01366004001_04103_00001-seg001_nrcalong_rateints.fits"
    with datamodels.open(tsgrism_sim["tso"]) as m:
        for key, value in change.items():
            node, attr = key.split(".")
            setattr(getattr(m.meta, node), attr, value)
        m.save(bad)
    assert message in spec2_failure(tsgrism_sim, bad, tmp_path / "out")
