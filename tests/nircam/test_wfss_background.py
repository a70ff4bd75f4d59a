"""WFSS reference-background subtraction on a simulated NIRCam WFSS exposure (a crowded
field plus a dispersed sky shaped like a full-frame reference), against jwst 3.0.0's
``_mask_from_source_cat`` and ``subtract_wfss_bkg`` on the same files: source mask, SCI,
DQ, MASK and the scaling factor identical."""

from __future__ import annotations

import numpy as np
import pytest
from stdatamodels.jwst.datamodels.dqflags import pixel

pytestmark = [pytest.mark.slow, pytest.mark.parity]

SKY_SCALE = 0.8  # the sky in the data, in units of the reference


def _pattern(shape):
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    return 1.0 + 0.3 * np.sin(xx / 350.0) * np.cos(yy / 500.0) + 0.1 * (xx / shape[1]) ** 2


@pytest.fixture(scope="module")
def bkg_setup(tmp_path_factory):
    from gwcs.wcs import WCS
    from jwst.assign_wcs import nircam
    from stdatamodels.jwst import datamodels

    from spec2.crds_cache import LocalCache
    from spec2.steps.wfss import build_wcs
    from spec2_nircam.sim.wfss import simulate_wfss
    from spec2_nircam.wfss import NRC_WFSS

    root = tmp_path_factory.mktemp("nrc_wfss_bkg")
    cache = LocalCache(root / "crds")
    sim = simulate_wfss(root / "data", cache, n_sources=40)
    cache.finish()
    refs = sim["references"]
    paths = {"specwcs": str(refs["specwcs"]), "distortion": str(refs["distortion"]),
             "filteroffset": str(refs["filteroffset"]),
             "wavelengthrange": str(refs["wavelengthrange"])}

    model = datamodels.ImageModel(sim["rate"])
    shape = model.data.shape
    bkg = _pattern(shape).astype(np.float32)
    bkg[:, :4] = 0.0  # reference pixels: no background there
    dq = np.zeros(shape, np.uint32)
    dq[100:110, 200:230] = pixel["DO_NOT_USE"]
    dq[500, :] = pixel["JUMP_DET"]
    rng = np.random.default_rng(11)
    dq[rng.integers(0, shape[0], 200), rng.integers(0, shape[1], 200)] = 2
    ref = datamodels.WfssBkgModel(data=bkg, dq=dq, err=np.full(shape, 0.01, np.float32))
    ref.meta.instrument.name, ref.meta.instrument.detector = "NIRCAM", model.meta.instrument.detector
    s = ref.meta.subarray
    s.name, s.xstart, s.ystart, s.ysize, s.xsize = "FULL", 1, 1, *shape
    bkg_path = root / "wfssbkg.fits"
    ref.save(bkg_path)

    # swap the simulator's own sky for this test's reference shape
    from spec2_nircam import instrument as ins
    from spec2_nircam.sim.wfss import SKY_SCALE as SIM_SKY

    sim_sky = SIM_SKY * ins.sky_pattern(shape) * ins.flat_pattern(shape)
    model.data = (model.data - sim_sky + SKY_SCALE * bkg).astype(np.float32)
    with datamodels.NIRCAMGrismModel(paths["specwcs"]) as specwcs, \
            datamodels.DistortionModel(paths["distortion"]) as dist, \
            datamodels.FilteroffsetModel(paths["filteroffset"]) as offsets:
        model.meta.wcs = build_wcs(model, NRC_WFSS, specwcs, dist, offsets)
    model.meta.wcsinfo.dispersion_direction = 1  # GRISMR disperses along rows
    model.meta.source_catalog = str(sim["catalog"])  # where jwst reads it from this folder
    theirs = model.copy()
    theirs.meta.wcs = WCS(nircam.create_pipeline(theirs, paths))  # jwst's own WCS
    return {"model": model, "jwst_model": theirs, "paths": paths, "bkg": bkg_path, "catalog": sim["catalog"]}


def our_mask(setup, mmag_extract=None):
    """spec2's background mask: the catalog's boxes as extract_2d finds them, without
    the point-source half height and the nbright cut (jwst's bkg_subtract call)."""
    from stdatamodels.jwst import datamodels

    from spec2.grism_catalog import read_catalog
    from spec2.steps.grism_objects import grism_boxes
    from spec2.steps.wfss_background import source_mask
    from spec2.wcs.grism import specwcs_orders
    from spec2.wcs.velocity import velocity_factor

    model = setup["model"]
    filt = model.meta.instrument.filter
    with datamodels.NIRCAMGrismModel(setup["paths"]["specwcs"]) as spec:
        orders = specwcs_orders(spec)
    with datamodels.WavelengthrangeModel(setup["paths"]["wavelengthrange"]) as wlr:
        listed = [o for name, o in wlr.extract_orders if name == filt][-1]  # the filter's orders
        ranges = {int(o): (float(r[2]), float(r[3])) for o in listed for r in wlr.wavelengthrange
                  if r[0] == o and r[1] == filt}
    to_detector = model.meta.wcs.get_transform("world", "detector")
    boxes = grism_boxes(read_catalog(setup["catalog"]), lambda ra, dec: to_detector(ra, dec, 1, 1)[:2], orders,
                        ranges, velocity_factor=velocity_factor(model.meta.wcsinfo.velosys),
                        dispaxis=model.meta.wcsinfo.dispersion_direction, shape=model.data.shape,
                        mmag_extract=mmag_extract)
    return source_mask(model.data.shape, boxes), boxes


@pytest.mark.parametrize("mmag_extract", [None, 23.0])
def test_source_mask_matches_jwst(bkg_setup, mmag_extract):
    from jwst.background.background_sub_wfss import _mask_from_source_cat

    ours, boxes = our_mask(bkg_setup, mmag_extract)
    theirs = _mask_from_source_cat(bkg_setup["jwst_model"], bkg_setup["paths"]["wavelengthrange"], mmag_extract)
    assert len(boxes) > 10 and any(b.partial for b in boxes)
    assert 0.05 < 1 - ours.mean() < 0.9  # a real mask, neither empty nor everything
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("mmag_extract", "options"), [
    (None, {}),
    (23.0, {"outlier_percent": 2.0, "maxiter": 8, "rms_stop": 5.0}),
])
def test_subtraction_matches_jwst(bkg_setup, mmag_extract, options):
    """SCI, DQ, ERR, MASK and the scaling factor identical to subtract_wfss_bkg; the
    factor recovers the injected sky scale."""
    from jwst.background.background_sub_wfss import subtract_wfss_bkg
    from stdatamodels.jwst import datamodels

    from spec2.steps.wfss_background import subtract_reference_background

    kwargs = {"p": options.get("outlier_percent", 1.0), "maxiter": options.get("maxiter", 5),
              "delta_rms_thresh": options.get("rms_stop", 0.0) / 100}
    theirs = subtract_wfss_bkg(bkg_setup["jwst_model"].copy(), str(bkg_setup["bkg"]),
                               bkg_setup["paths"]["wavelengthrange"], mmag_extract, rescaler_kwargs=kwargs)
    assert theirs.meta.cal_step.bkg_subtract is None  # jwst's step then writes COMPLETE
    mask, _ = our_mask(bkg_setup, mmag_extract)
    ours = bkg_setup["model"].copy()
    with datamodels.WfssBkgModel(bkg_setup["bkg"]) as ref:
        subtract_reference_background(ours, ref, mask, **options)
    assert ours.meta.background.scaling_factor == theirs.meta.background.scaling_factor
    assert abs(ours.meta.background.scaling_factor / SKY_SCALE - 1) < 0.01
    for name in ("data", "dq", "err", "mask"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_empty_user_mask_fails_as_jwst(bkg_setup):
    """A user mask with no background: jwst marks the step FAILED with factor 0 and the
    mask saved, data untouched; spec2 raises StepFailed leaving the same."""
    from jwst.background.background_sub_wfss import subtract_wfss_bkg
    from stdatamodels.jwst import datamodels

    from spec2.errors import StepFailed
    from spec2.steps.wfss_background import subtract_reference_background

    empty = np.zeros(bkg_setup["model"].data.shape, bool)
    theirs = subtract_wfss_bkg(bkg_setup["jwst_model"].copy(), str(bkg_setup["bkg"]),
                               bkg_setup["paths"]["wavelengthrange"], user_mask=empty)
    assert theirs.meta.cal_step.bkg_subtract == "FAILED"
    ours = bkg_setup["model"].copy()
    with datamodels.WfssBkgModel(bkg_setup["bkg"]) as ref, pytest.raises(StepFailed, match="background pixels"):
        subtract_reference_background(ours, ref, empty, user_mask=True)
    assert ours.meta.background.scaling_factor == theirs.meta.background.scaling_factor == 0.0
    np.testing.assert_array_equal(ours.mask, theirs.mask)
    np.testing.assert_array_equal(ours.data, bkg_setup["model"].data)
    np.testing.assert_array_equal(theirs.data, bkg_setup["model"].data)
