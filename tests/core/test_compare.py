"""`spec2 compare`'s rules on small products: a product agrees with itself; a column or
array scaled by 1.02 is caught and named; slits, spectra and WFSS rows are matched by
name/source id, not position; DQ differs bit by bit; the WCS is evaluated on pixels;
different kinds or unreadable files cannot be compared."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spec2.compare import compare_files, compare_values, render_json, render_text
from tests.core import products as P

MAKERS = [P.make_x1d, P.make_x1dints, P.make_wfss_x1d, P.make_s2d, P.make_slit_calints, P.make_slits_cal, P.make_image,
          P.make_images, P.make_s3d]


def edited(src, dst, edit):
    """A copy of product ``src`` at ``dst`` with ``edit(model)`` applied."""
    from stdatamodels.jwst import datamodels

    with datamodels.open(src) as model:
        edit(model)
        model.save(dst)
    return dst


@pytest.mark.parametrize("make", MAKERS, ids=lambda m: m.__name__[5:])
def test_a_product_agrees_with_itself(make, tmp_path):
    a = make(tmp_path / "a.fits")
    b = make(tmp_path / "b.fits")
    result = compare_files(a, b)
    assert result.exit_code == 0 and result.differences == [], render_text(result)
    assert result.checked > 2 and result.summary().startswith("AGREE")


def test_a_column_scaled_by_2_percent_is_caught_and_named(tmp_path):
    ref = P.make_x1d(tmp_path / "ref_x1d.fits")

    def scale(m):
        m.spec[1].spec_table["FLUX"] *= 1.02

    other = edited(ref, tmp_path / "other_x1d.fits", scale)
    result = compare_files(other, ref)
    assert result.exit_code == 1
    [diff] = result.differences
    assert (diff.where, diff.what, diff.count, diff.total) == ("spec S200A2 FLUX", "values", 60, 60)
    assert diff.max_rel == pytest.approx(0.02)
    text = render_text(result)
    assert "spec S200A2 FLUX" in text and text.splitlines()[-1].startswith("DIFFER: 1 of")
    assert compare_files(other, ref, rtol=0.03).exit_code == 0  # within a looser tolerance


def test_slits_matched_by_name_not_position_and_dq_by_bit(tmp_path):
    ref = P.make_slits_cal(tmp_path / "ref_cal.fits")

    def reorder_and_flag(m):
        m.slits[0].dq[3, 3] |= 4
        m.slits[1].data[2, 10:20] *= 1.02
        m.slits.append(m.slits.pop(0))

    other = edited(ref, tmp_path / "other_cal.fits", reorder_and_flag)
    result = compare_files(other, ref)
    found = {d.where: d for d in result.differences}
    assert set(found) == {"slit S200A1 source id 1 dq", "slit S400A1 source id 2 data"}
    assert found["slit S200A1 source id 1 dq"].what == "DQ flags 4"
    assert found["slit S200A1 source id 1 dq"].at == "(3, 3)"
    assert found["slit S400A1 source id 2 data"].count == 10


def test_a_missing_slit_or_source_is_a_difference(tmp_path):
    ref = P.make_slits_cal(tmp_path / "ref_cal.fits")
    other = edited(ref, tmp_path / "one_cal.fits", lambda m: m.slits.pop(1))
    result = compare_files(other, ref)
    assert [(d.where, d.what) for d in result.differences] == [("slit S400A1 source id 2", "missing in A")]

    wfss = P.make_wfss_x1d(tmp_path / "ref_x1d.fits", sources=(11, 42))
    fewer = P.make_wfss_x1d(tmp_path / "few_x1d.fits", sources=(11,))
    result = compare_files(fewer, wfss)
    assert ("spec spectral order 1 source 42", "missing in A") in [(d.where, d.what) for d in result.differences]


def test_wfss_rows_matched_by_source_id(tmp_path):
    ref = P.make_wfss_x1d(tmp_path / "ref_x1d.fits", sources=(11, 42))

    def flip_rows(m):
        m.spec[0].spec_table = m.spec[0].spec_table[::-1].copy()

    flipped = edited(ref, tmp_path / "flip_x1d.fits", flip_rows)
    assert compare_files(flipped, ref).exit_code == 0


def test_wcs_evaluated_on_pixels(tmp_path):
    from tests.core.products import linear_wcs

    ref = P.make_s2d(tmp_path / "ref_s2d.fits")

    def shift(m):
        m.meta.wcs = linear_wcs(scale=0.01, offset=1.001, box=((-0.5, 59.5), (-0.5, 11.5)))

    other = edited(ref, tmp_path / "other_s2d.fits", shift)
    [diff] = compare_files(other, ref).differences
    assert diff.where == "product wcs output 0" and diff.max_rel == pytest.approx(0.001 / 1.0, rel=0.01)


def test_nan_only_where_the_other_has_nan():
    a = np.array([1.0, np.nan, 3.0])
    assert compare_values("x", a, a.copy(), 1e-5, 0) is None
    diff = compare_values("x", a, np.array([1.0, 2.0, 3.0]), 1e-5, 0)
    assert (diff.what, diff.count, diff.at) == ("NaN in one only", 1, "(1,)")
    assert compare_values("x", np.zeros(3), np.zeros(4), 1e-5, 0).what == "shape (3,) vs (4,)"
    assert compare_values("x", np.array([1e-9]), np.array([0.0]), 1e-5, 1e-8) is None


def test_different_kinds_or_unreadable_cannot_be_compared(tmp_path):
    x1d = P.make_x1d(tmp_path / "a_x1d.fits")
    s2d = P.make_s2d(tmp_path / "a_s2d.fits")
    result = compare_files(s2d, x1d)
    assert result.exit_code == 2
    assert result.summary() == "CANNOT COMPARE: different kinds: SlitModel (slit) vs MultiSpecModel (x1d)"
    (tmp_path / "bad_x1d.fits").write_text("not FITS")
    assert compare_files(tmp_path / "bad_x1d.fits", x1d).exit_code == 2
    assert compare_files(tmp_path / "none_x1d.fits", x1d).summary().endswith("none_x1d.fits: no such file")


def test_json_has_the_verdict_and_every_difference(tmp_path):
    ref = P.make_x1dints(tmp_path / "ref_x1dints.fits")

    def scale(m):
        m.spec[0].spec_table["FLUX_ERROR"][2] *= 1.02

    other = edited(ref, tmp_path / "other_x1dints.fits", scale)
    data = json.loads(render_json(compare_files(other, ref)))
    assert data["verdict"] == "DIFFER" and data["exit_code"] == 1 and data["kind"] == "x1dints"
    [diff] = data["differences"]
    assert diff["where"].endswith("FLUX_ERROR") and diff["count"] == 60 and diff["at"].startswith("(2,")


def test_a_product_that_breaks_the_comparison_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    import spec2.compare

    def broken(*args):
        raise ValueError("cannot reshape array of size 3 into shape (2,)")

    x1d = P.make_x1d(tmp_path / "a_x1d.fits")
    monkeypatch.setattr(spec2.compare, "compare_node", broken)
    result = compare_files(x1d, x1d)
    assert result.exit_code == 2
    assert result.summary() == "CANNOT COMPARE: a malformed product (ValueError: cannot reshape array of size 3 into shape (2,))"
