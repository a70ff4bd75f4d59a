"""NIRCam plugin hook implementations: grism time series (NRC_TSGRISM) and wide-field
slitless spectroscopy (NRC_WFSS).

The plugin claims its exposure types and steps in ``spec2_claims``; each hook fetches its
reference files through ``refs`` and calls the module that does the work. Heavy imports happen inside the
hooks, so loading the plugin costs nothing.
"""

from __future__ import annotations

from spec2 import hookimpl
from spec2.recipe import Claim, Recipe, Step

TSGRISM = "NRC_TSGRISM"
WFSS = "NRC_WFSS"
EXPOSURE_TYPES = (TSGRISM, WFSS)

# calwebb_spec2's grism branch (_process_grism): for a time series bkg_subtract subtracts
# association backgrounds (SKIPPED without), for WFSS the scaled WFSSBKG reference.
_TSGRISM_CALIBRATE = (Step("assign_wcs", required=True), "bkg_subtract", "flat_field", "extract_2d", "srctype",
                      Step("photom", product="cal"), Step("extract_1d", product="x1d"))
_WFSS_CALIBRATE = (Step("assign_wcs", required=True), "bkg_subtract", "flat_field", "extract_2d", "srctype",
                   "wfss_contam", Step("photom", product="cal"), Step("extract_1d", product="x1d"))
_GRISM_REFS = ("specwcs", "distortion", "filteroffset")


def _is_wfss(model) -> bool:
    return model.meta.exposure.type == WFSS


@hookimpl
def spec2_claims():
    common = {"assign_wcs": _GRISM_REFS, "flat_field": ("flat",), "srctype": (), "photom": ("photom",)}
    return [
        # the time series' photom attaches the pixel-area map (AREA), as jwst's does
        Claim((TSGRISM,), {**common, "bkg_subtract": (), "extract_2d": ("specwcs", "wavelengthrange"),
                           "photom": ("photom", "area"), "extract_1d": ("extract1d",)}),
        Claim((WFSS,), {**common, "bkg_subtract": ("bkg", "specwcs", "wavelengthrange"),
                        "extract_2d": ("specwcs", "wavelengthrange"), "wfss_contam": ("wavelengthrange", "photom"),
                        "extract_1d": ("apcorr",)}),
    ]


@hookimpl
def spec2_recipe(exp_type, multi_int):
    return Recipe(_WFSS_CALIBRATE if exp_type == WFSS else _TSGRISM_CALIBRATE)


@hookimpl
def assign_wcs(model, refs, members):
    if _is_wfss(model):
        from spec2.steps import wfss
        from spec2_nircam.wfss import NRC_WFSS

        return wfss.assign_wcs(model, refs, members, NRC_WFSS)
    filteroffset = refs.open("filteroffset") if refs.path("filteroffset") is not None else None
    from spec2_nircam.assign_wcs import assign_tsgrism_wcs

    return assign_tsgrism_wcs(model, refs.open("specwcs"), refs.open("distortion"), filteroffset)


@hookimpl
def background(model, refs, params, members):
    if _is_wfss(model):
        from spec2.steps import wfss
        from spec2_nircam.wfss import NRC_WFSS

        return wfss.bkg_subtract(model, refs, params, members, NRC_WFSS)
    from spec2.steps.background import subtract_association_backgrounds

    return subtract_association_backgrounds(model, params, members)


@hookimpl
def flat(model, refs, params):
    flat_model = refs.open("flat")
    from spec2.steps.flat_field import apply_flat

    return apply_flat(model, flat_model, inverse=params["inverse"])


@hookimpl
def extract_2d(model, refs, params, members):
    if _is_wfss(model):
        from spec2.steps import wfss
        from spec2_nircam.wfss import NRC_WFSS

        return wfss.extract_2d(model, refs, params, members, NRC_WFSS)
    from spec2.wcs.grism import specwcs_orders

    orders = specwcs_orders(refs.open("specwcs"))
    from spec2_nircam.extract_2d import extract_tso

    return extract_tso(model, refs.open("wavelengthrange"), orders, extract_orders=params["extract_orders"],
                       extract_height=params["tsgrism_extract_height"])


@hookimpl
def srctype(model, params):
    if _is_wfss(model):
        from spec2.steps.srctype import set_slit_source_types

        return set_slit_source_types(model, source_type=params["source_type"])
    from spec2.steps.srctype import set_source_type

    return set_source_type(model, source_type=params["source_type"])


@hookimpl
def photom(model, refs, params):
    from spec2.steps.call import forward_only

    forward_only(params, "NIRCam grism photom")
    photom_model = refs.open("photom")
    from spec2.steps.grism_photom import (
        apply_grism_photom,
        calibrate_slits,
        set_photometry_keywords,
        subarray_area,
    )

    if _is_wfss(model):
        return calibrate_slits(model, photom_model)

    area = refs.open("area") if refs.path("area") is not None else None
    m = model.meta.instrument
    scalar = apply_grism_photom(model, photom_model, model.meta, filter_name=m.filter, pupil=m.pupil,
                                order=model.meta.wcsinfo.spectral_order, dispaxis=1)
    if area is not None:
        model.area = subarray_area(area, model.meta.subarray)
    set_photometry_keywords(model.meta, scalar, photom_model, area)
    return model


@hookimpl
def extract(model, refs, params):
    if _is_wfss(model):
        from spec2.steps import wfss

        return wfss.extract_1d(model, refs, params)
    from spec2.steps.extract_slit import extraction_options

    ref = refs.load_json("extract1d") if refs.path("extract1d") is not None else None
    from spec2_nircam.extract_1d import extract_tsgrism

    return extract_tsgrism(model, ref, **extraction_options(params))


@hookimpl
def spec2_demo_data(directory, cache):
    """A grism transit time series of a bright star, and a GRISMR (module A) WFSS field
    whose truth shown is a bright point source no other source's trace crosses."""
    import numpy as np

    from spec2.demo import DemoCase
    from spec2_nircam.sim.tsgrism import default_spectrum, simulate_tsgrism
    from spec2_nircam.sim.wfss import simulate_wfss

    out = simulate_tsgrism(directory / "nircam_tsgrism", cache, nints=60)
    wl = np.linspace(3.7, 5.1, 700)
    band = (3.95, 4.9)
    wfss = simulate_wfss(directory / "nircam_wfss", cache, n_sources=40, seed=5)
    chosen = _isolated_point_source(wfss["sources"], band)
    s = wfss["sources"]
    return [
        DemoCase(
            name="NIRCam grism time series",
            description=f"F444W/GRISMR transit, {len(out['light_curve'])} integrations with a 0.8 % transit",
            inputs=[out["tso"]],
            truth_wavelength=wl,
            truth_flux=default_spectrum(wl),
            light_curve=out["light_curve"],
            wavelength_range=band,
            tolerance=0.01,
        ),
        DemoCase(
            name="NIRCam WFSS",
            description=f"F444W/GRISMR module A field of {s.label.size} sources, the dispersed sky "
                        f"subtracted; truth shown: source {s.label[chosen]} (AB {s.abmag[chosen]:.1f})",
            inputs=[wfss["asn"]],
            truth_wavelength=wl,
            truth_flux=wfss["spectra"][chosen](wl),
            wavelength_range=band,
            source_id=int(s.label[chosen]),
            spectral_order=1,
        ),
    ]


def _isolated_point_source(sources, band):
    """Index of the brightest point source whose first-order trace over ``band`` lies on the
    detector and whose cut-out no other source's trace enters (GRISMR, module A: the
    trace runs along +x, dx = DX1[0] + DX1[1] t with lambda ~ C0 + C1 t)."""
    import numpy as np

    from spec2_nircam import instrument as ins

    (c0, *_), (c1, *_) = ins.LAMBDA_COEFFS[:2]
    lo, hi = (ins.DX1[0] + ins.DX1[1] * (w - c0) / c1 for w in band)
    full = [ins.DX1[0] + ins.DX1[1] * (w - c0) / c1 for w in ins.WAVELENGTH_RANGE[1]]
    x, y = sources.x, sources.y
    for i in np.argsort(sources.abmag):
        others = np.arange(x.size) != i
        # another trace (x - 650 .. x + 740) within 20 rows overlapping this one
        near = others & (np.abs(y - y[i]) < 20) & (x + full[0] < x[i] + full[1]) & (x + full[1] > x[i] + full[0])
        on_detector = 5 < x[i] + lo and x[i] + hi < ins.FULL_SHAPE[1] - 5 and 20 < y[i] < ins.FULL_SHAPE[0] - 20
        if not sources.is_extended[i] and on_detector and not near.any():
            return int(i)
    raise RuntimeError("the simulated NIRCam WFSS field has no isolated point source")


@hookimpl
def wfss_contam(model, refs, params, members):
    """Off by default; needs the association's direct_image and segmap members."""
    from spec2.steps import wfss
    from spec2_nircam.wfss import NRC_WFSS

    return wfss.wfss_contam(model, refs, params, members, NRC_WFSS)
