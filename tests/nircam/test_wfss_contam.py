"""NIRCam WFSS contamination correction (wfss_contam, off by default in both pipelines)
on the simulated F444W/GRISMR field with its direct image and segmentation map: spec2
and jwst 3.0.0 with the step on give the same corrected cut-outs and x1d."""

from __future__ import annotations

import numpy as np
import pytest

from tests.niriss.test_wfss_contam import _spec2, _strun

pytestmark = [pytest.mark.slow, pytest.mark.parity]


@pytest.fixture(scope="module")
def nrc_contam(tmp_path_factory):
    from spec2.crds_cache import LocalCache
    from spec2_nircam.sim.wfss import simulate_wfss

    root = tmp_path_factory.mktemp("nrc_wfss_contam")
    cache = LocalCache(root / "crds")
    sim = simulate_wfss(root / "data", cache, n_sources=40)
    cache.finish()
    sim["root"], sim["crds"] = root, root / "crds"
    return sim, _strun(sim, root / "jwst"), _spec2(sim, root / "spec2", "--set", "wfss_contam.skip=false")


def test_corrected_cutouts_and_x1d_match_jwst(nrc_contam):
    from stdatamodels.jwst import datamodels

    sim, jwst_out, spec2_out = nrc_contam
    stem = sim["stem"]
    with datamodels.open(spec2_out / f"{stem}_wfss_contam.fits") as a, \
            datamodels.open(jwst_out / f"{stem}_wfss_contam.fits") as b:
        assert a.meta.cal_step.wfss_contam == b.meta.cal_step.wfss_contam == "COMPLETE"
        assert len(a.slits) == len(b.slits) > 20
        for sa, sb in zip(a.slits, b.slits, strict=True):
            assert sa.source_id == sb.source_id
            np.testing.assert_array_equal(sa.data, sb.data, err_msg=f"slit {sb.source_id}")
    with datamodels.open(spec2_out / f"{stem}_x1d.fits") as a, datamodels.open(jwst_out / f"{stem}_x1d.fits") as b:
        for sa, sb in zip(a.spec, b.spec, strict=True):
            for col in ("WAVELENGTH", "FLUX", "FLUX_ERROR", "SURF_BRIGHT"):
                np.testing.assert_array_equal(sa.spec_table[col], sb.spec_table[col], err_msg=col)
