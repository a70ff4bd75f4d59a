"""A MOS nod: two dither points of a three-shutter nod, each exposure the other's
background in a spec2 association. spec2's bkg_subtract product equals jwst 3.0.0's
BackgroundStep on the same exposures, and the slitlets of the nod-subtracted _cal hold the
source where the exposure's MSA metadata puts it at its own dither point."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def mos_nods(tmp_path_factory):
    import spec2
    from spec2.association import write_nod_association
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.mos import simulate_mos

    root = tmp_path_factory.mktemp("mos_nods")
    sim = simulate_mos(root / "data", LocalCache(root / "crds"), detectors=("NRS1",), dithers=(1, 2))
    rates = [sim[("NRS1", 1)], sim[("NRS1", 2)]]
    asn = write_nod_association(root / "data" / "jw01234-a3005_spec2_00001_asn.json", rates,
                                [p.name.replace("_rate.fits", "") for p in rates])
    env = crds_environment(root / "crds")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        run = spec2.process([str(asn)], root / "spec2", save_intermediate=True)
        assert all(r.ok for r in run), [r.error for r in run]
        from jwst.assign_wcs import AssignWcsStep
        from jwst.background import BackgroundStep
        from jwst.msaflagopen import MSAFlagOpenStep

        mp.chdir(root / "data")
        jwst = {}
        for science, background in ((rates[0], rates[1]), (rates[1], rates[0])):
            flagged = MSAFlagOpenStep.call(AssignWcsStep.call(str(science)))
            jwst[science] = BackgroundStep.call(flagged, [str(background)])
    return {"rates": rates, "spec2": root / "spec2", "jwst": jwst, "slitlets": sim["slitlets"]}


def test_nod_subtraction_equals_jwsts(mos_nods):
    from stdatamodels.jwst import datamodels as dm

    for rate in mos_nods["rates"]:
        stem = rate.name.replace("_rate.fits", "")
        with dm.open(mos_nods["spec2"] / f"{stem}_bsub.fits") as ours:
            theirs = mos_nods["jwst"][rate]
            assert ours.meta.cal_step.bkg_subtract == "COMPLETE"
            for array in ("data", "dq", "err"):
                np.testing.assert_array_equal(getattr(ours, array), getattr(theirs, array), err_msg=array)


def test_each_nod_sees_its_own_shutter(mos_nods):
    from stdatamodels.jwst import datamodels as dm

    planned = {s.slitlet_id: s for s in mos_nods["slitlets"]}
    for dither, rate in enumerate(mos_nods["rates"], start=1):
        with dm.open(mos_nods["spec2"] / rate.name.replace("_rate", "_cal")) as cal:
            slit = next(s for s in cal.slits if s.name == "1")  # a 1x3 point source
            assert slit.ycen == planned[1].primary_column(dither)
            assert slit.shutter_state == ("1x1" if dither == 1 else "11x")
            # the source is positive where it is, negative where the other nod put it
            rows = np.nanmedian(slit.data, axis=1)
            assert np.nanmax(rows) > 10 * abs(np.nanmedian(rows)) and np.nanmin(rows) < 0
