"""NIRCam WFSS groundwork: the exposure's WCS and the cut-out boxes of a crowded catalog,
against jwst 3.0.0's ``nircam.wfss`` pipeline and ``create_grism_bbox`` on the same
reference files and catalog."""

from __future__ import annotations

import numpy as np
import pytest

N_SOURCES = 150


@pytest.fixture(scope="module")
def wfss_setup(tmp_path_factory):
    from stdatamodels.jwst import datamodels

    from spec2.sim.grism_scene import write_catalog
    from spec2.steps.wfss import build_wcs
    from spec2_nircam.sim import references
    from spec2_nircam.sim.wfss import fill_wfss_header, random_sources
    from spec2_nircam.wfss import NRC_WFSS

    d = tmp_path_factory.mktemp("wfss")
    refs = {
        "specwcs": str(references.write_specwcs(d / "specwcs.asdf")),
        "distortion": str(references.write_distortion(d / "distortion.asdf")),
        "filteroffset": str(references.write_filteroffset(d / "filteroffset.asdf")),
        "wavelengthrange": str(references.write_wfss_wavelengthrange(d / "wavelengthrange.asdf")),
    }
    model = fill_wfss_header(datamodels.ImageModel(np.zeros((2048, 2048), np.float32)))
    wcs = build_wcs(model, NRC_WFSS, datamodels.NIRCAMGrismModel(refs["specwcs"]),
                    datamodels.DistortionModel(refs["distortion"]), datamodels.FilteroffsetModel(refs["filteroffset"]))
    to_sky = wcs.get_transform("detector", "world")
    sources = random_sources(N_SOURCES, margin=-40)  # some centred beyond the edges too
    catalog = write_catalog(d / "cat.ecsv", sources, lambda x, y: to_sky(x, y, 1.0, 1)[:2])
    model.meta.source_catalog = str(catalog)
    return {"model": model, "wcs": wcs, "refs": refs, "catalog": catalog, "sources": sources}


@pytest.mark.parity
def test_wfss_wcs_matches_jwst(wfss_setup):
    from gwcs.wcs import WCS
    from jwst.assign_wcs import nircam

    ours = wfss_setup["wcs"]
    theirs = WCS(nircam.create_pipeline(wfss_setup["model"], wfss_setup["refs"]))
    assert ours.available_frames == theirs.available_frames
    x = np.arange(5.0, 2040.0, 37.0)
    args = (x, x[::-1], np.full_like(x, 900.0), np.full_like(x, 1300.0), np.ones_like(x))
    for p, q in zip(ours(*args), theirs(*args), strict=True):
        np.testing.assert_array_equal(p, q)
    sky = (53.16, -27.79, 4.2, 1)
    for p, q in zip(ours.backward_transform(*sky), theirs.backward_transform(*sky), strict=True):
        assert p == q


def test_catalog_reading(wfss_setup):
    from spec2.errors import InputError
    from spec2.grism_catalog import read_catalog

    cat = read_catalog(wfss_setup["catalog"])
    assert len(cat) == N_SOURCES and cat.corner_ra.shape == (N_SOURCES, 4)
    np.testing.assert_allclose(cat.xcentroid, wfss_setup["sources"].x)
    assert cat.is_extended.tolist() == wfss_setup["sources"].is_extended.tolist()
    bad = wfss_setup["catalog"].parent / "bad.ecsv"
    bad.write_text(wfss_setup["catalog"].read_text().replace("is_extended", "extended"))
    with pytest.raises(InputError, match="lacks the column"):
        read_catalog(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_catalog(bad.parent / "missing.ecsv")


@pytest.mark.parity
@pytest.mark.parametrize(("options", "jwst_options"), [
    ({}, {}),
    ({"half_height": 5, "mmag_extract": 24.0}, {"wfss_extract_half_height": 5, "mmag_extract": 24.0}),
    ({"nbright": 40}, {"nbright": 40}),
])
def test_boxes_match_jwst(wfss_setup, options, jwst_options):
    """Every source's boxes: which sources and orders, their pixel bounds, the partial
    flag and the direct-image position, in jwst's (brightness) order, exactly."""
    from jwst.assign_wcs.util import create_grism_bbox
    from stdatamodels.jwst import datamodels

    from spec2.grism_catalog import read_catalog
    from spec2.steps.grism_objects import grism_boxes
    from spec2.wcs.grism import specwcs_orders
    from spec2.wcs.velocity import velocity_factor

    model = wfss_setup["model"]
    model.meta.wcs = wfss_setup["wcs"]
    model.meta.wcsinfo.dispersion_direction = 1
    theirs = create_grism_bbox(model, {"wavelengthrange": wfss_setup["refs"]["wavelengthrange"]}, **jwst_options)
    to_detector = wfss_setup["wcs"].get_transform("world", "detector")
    with datamodels.NIRCAMGrismModel(wfss_setup["refs"]["specwcs"]) as spec:
        orders = specwcs_orders(spec)
    ours = grism_boxes(read_catalog(wfss_setup["catalog"]), lambda ra, dec: to_detector(ra, dec, 1.0, 1)[:2],
                       orders, {1: (3.70, 5.10)}, velocity_factor=velocity_factor(model.meta.wcsinfo.velosys),
                       dispaxis=1, shape=(2048, 2048), **options)
    expected = [(int(o.sid), order, tuple(tuple(int(v) for v in pair) for pair in box), o.partial_order[order])
                for o in theirs for order, box in o.order_bounding.items()]
    got = [(b.label, b.order, ((b.ymin, b.ymax), (b.xmin, b.xmax)), b.partial) for b in ours]
    assert len(got) == len(expected) > 10
    assert got == expected
    positions = [(o.xcentroid, o.ycentroid) for o in theirs for _ in o.order_bounding]
    assert [(b.x0, b.y0) for b in ours] == positions
