"""The MOS simulator's configurations and MSA metadata file, read back as spec2 reads it
(the geometry on the detectors is checked by the slow parity tests)."""

from __future__ import annotations

import numpy as np

from spec2_nirspec.msa_metadata import read_msa_file, slitlets
from spec2_nirspec.sim import msa_quadrants as msaq
from spec2_nirspec.sim.mos import (
    EXTENDED,
    POINT,
    default_configuration,
    large_configuration,
    write_msa_file,
)


def test_default_configuration_covers_the_cases():
    conf = default_configuration()
    assert 10 <= len(conf) <= 20
    assert {s.quadrant for s in conf} == {1, 2, 3, 4, 5}
    assert {len(s.columns) for s in conf if not s.fixed_slit} >= {1, 2, 3, 5}
    assert {s.kind for s in conf} == {POINT, EXTENDED, "background", "virtual"}
    assert any(s.kind == POINT and (s.xpos, s.ypos) != (0.5, 0.5) for s in conf)


def test_large_configuration_for_the_benchmark():
    conf = large_configuration()
    assert len(conf) >= 150
    for s in conf:
        assert 1 <= s.row <= msaq.N_ROWS and all(1 <= c <= msaq.N_COLUMNS for c in s.columns)
    assert len({(s.quadrant, c) for s in conf for c in s.columns}) == 3 * len(conf)  # no shared shutter


def test_msa_file_reads_back(tmp_path):
    conf = default_configuration()
    other = conf[:2]
    path = write_msa_file(tmp_path / "jw01234005001_01_msa.fits", conf, others={2: other})
    shutters, sources = read_msa_file(path)
    for dither in (1, 2, 3):
        slits = {s.name: s for s in slitlets(shutters, sources, 1, dither, "1234")}
        assert set(slits) == {s.fixed_slit or s.slitlet_id for s in conf}
        for planned in conf:
            slit = slits[planned.fixed_slit or planned.slitlet_id]
            if planned.kind == "background":
                assert slit.source_name == f"1234_BKG{planned.slitlet_id}"
            elif not planned.fixed_slit:
                assert slit.ycen == planned.primary_column(dither)
                assert np.isclose(slit.source_ypos, planned.ypos - 0.5, atol=1e-6)
    assert slits[1].shutter_state == "x11"  # dither 3: the source in the lowest shutter
    assert slits[6].shutter_state == "x101"  # a closed shutter within the slitlet (columns 88, 89, 91)
    assert len(slitlets(shutters, sources, 2, 1, "1234")) == len(other)


def test_nod_association_with_an_imprint_member(tmp_path):
    """simulate_mos's association: per nod point a product whose background members are
    the other points and whose imprint member is the imprint exposure."""
    from spec2.association import read_association, write_nod_association

    rates = [tmp_path / f"jw01234005001_01101_0000{d}_nrs1_rate.fits" for d in (1, 2, 3)]
    imprint = tmp_path / "jw01234005001_01102_00001_nrs1_rate.fits"
    for p in (*rates, imprint):
        p.write_text("")
    asn = write_nod_association(tmp_path / "a_asn.json", rates, [p.name[:-10] for p in rates],
                                extra_members={"imprint": [imprint]})
    products = read_association(asn)
    assert [e.science for e in products] == rates
    first = products[0]
    assert first.members["background"] == rates[1:] and first.members["imprint"] == [imprint]


def test_barshadow_reference_wavelengths_are_in_metres(tmp_path):
    """The pipelines read the table's columns against the WCS's wavelengths (metres): a
    table in microns would put every pixel on its first column."""
    from stdatamodels.jwst.datamodels import BarshadowModel

    from spec2_nirspec.sim.references_cal import write_barshadow

    with BarshadowModel(str(write_barshadow(tmp_path / "bar.fits"))) as ref:
        assert abs(ref.crval1 - 0.5e-6) < 1e-15
        assert abs(ref.cdelt1 - 0.05e-6) < 1e-15


def test_slitlet_bar_shadow_truth_is_what_the_reference_tables_join_to(tmp_path):
    """The simulator's shade of a slitlet (bars between open shutters, a closed shutter,
    the ends) is the shadow the barshadow reference's 1x1/1x3 tables describe, joined
    as jwst joins them."""
    from stdatamodels.jwst.datamodels import BarshadowModel

    from spec2_nirspec.barshadow import join_shadow, shutter_pieces
    from spec2_nirspec.sim.references_cal import (
        BARSHADOW_WL,
        slitlet_barshadow_truth,
        write_barshadow,
    )

    ref = BarshadowModel(str(write_barshadow(tmp_path / "bar.fits")))
    for state in ("11x11", "1x01", "x", "x1"):
        joined = join_shadow(shutter_pieces(ref.data1x1, ref.data1x3), state)
        centre = 500 * (state.index("x") + 1)
        y = np.array([-0.55, -0.5, -0.3, 0.3, 0.45, 0.5, 0.62, 0.9, 1.5, 1.7])
        y = y[(centre + 500 * y > 0) & (centre + 500 * y < joined.shape[0] - 1)]
        column = 40  # 2.5 um
        lam = BARSHADOW_WL[0] + BARSHADOW_WL[1] * column
        # within 2.5 %: jwst's join copies the top piece one table row (0.002 pitch) high,
        # which shows where a closed end's shade falls off steeply (exp(-0.002 / 0.1))
        np.testing.assert_allclose(joined[np.round(centre + 500 * y).astype(int), column],
                                   slitlet_barshadow_truth(state, y, lam), rtol=0.025, err_msg=state)
        inside = np.abs(y) < 0.45  # the source shutter's own light: no steep part
        np.testing.assert_allclose(joined[np.round(centre + 500 * y[inside]).astype(int), column],
                                   slitlet_barshadow_truth(state, y[inside], lam), rtol=1e-3, err_msg=state)


def test_slitlet_pathloss_truth_by_shutter_configuration():
    from spec2_nirspec.sim.references_cal import (
        mos_pathloss_truth,
        mos_slitlet_pathloss_truth,
    )

    lam = np.array([2.0, 3.0])
    # a lone shutter: the 1x1 throughput; open on both sides: the 1x3 one at the position
    np.testing.assert_allclose(mos_slitlet_pathloss_truth("x", lam, 0.1, 0.2, "POINT"),
                               mos_pathloss_truth(1, lam, 0.1, 0.2, "POINT"))
    np.testing.assert_allclose(mos_slitlet_pathloss_truth("1x1", lam, 0.1, 0.2, "POINT"),
                               mos_pathloss_truth(3, lam, 0.1, 0.2, "POINT"))
    # at the bottom of a slitlet the source sits in the lowest shutter of a 1x3
    np.testing.assert_allclose(mos_slitlet_pathloss_truth("x11", lam, 0.1, 0.2, "POINT"),
                               mos_pathloss_truth(3, lam, 0.1, -0.8, "POINT"))
    np.testing.assert_allclose(mos_slitlet_pathloss_truth("0x", lam, 0.1, 0.2, "POINT"),
                               mos_pathloss_truth(1, lam, 0.1, 0.2, "POINT"))
    # uniform light: two shutters halfway between the lone and the three-shutter values
    two = mos_slitlet_pathloss_truth("1x", lam, 0, 0, "EXTENDED")
    np.testing.assert_allclose(two, 0.5 * (mos_pathloss_truth(1, lam, 0, 0, "EXTENDED")
                                           + mos_pathloss_truth(3, lam, 0, 0, "EXTENDED")))
