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
