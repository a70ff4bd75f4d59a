"""NIRISS plugin hook implementations: wide-field slitless spectroscopy (NIS_WFSS).

The plugin claims its exposure types and steps in ``spec2_claims``; each hook fetches its
reference files through ``refs`` and calls the module that does the work. Heavy imports happen inside the
hooks, so loading the plugin costs nothing.
"""

from __future__ import annotations

from spec2 import hookimpl
from spec2.recipe import Claim, Recipe, Step

WFSS = "NIS_WFSS"

# calwebb_spec2's grism branch for WFSS: the reference background is scaled and subtracted
# before the flat, the flat before the cut-outs; photom works on the cut-outs (after the
# contamination correction, which is off unless asked for).
_WFSS_CALIBRATE = (Step("assign_wcs", required=True), "bkg_subtract", "flat_field", "extract_2d", "srctype",
                   "wfss_contam", Step("photom", product="cal"), Step("extract_1d", product="x1d"))


@hookimpl
def spec2_claims():
    return [Claim((WFSS,), {
        "assign_wcs": ("specwcs", "distortion", "filteroffset"), "bkg_subtract": ("bkg", "specwcs", "wavelengthrange"),
        "flat_field": ("flat",), "extract_2d": ("specwcs", "wavelengthrange"), "srctype": (),
        "wfss_contam": ("wavelengthrange", "photom"), "photom": ("photom",), "extract_1d": ("apcorr",),
    })]


@hookimpl
def spec2_recipe(exp_type, multi_int):
    return Recipe(_WFSS_CALIBRATE)


@hookimpl
def assign_wcs(model, refs, members):
    from spec2.steps import wfss
    from spec2_niriss.wfss import NIS_WFSS

    return wfss.assign_wcs(model, refs, members, NIS_WFSS)


@hookimpl
def background(model, refs, params, members):
    from spec2.steps import wfss
    from spec2_niriss.wfss import NIS_WFSS

    return wfss.bkg_subtract(model, refs, params, members, NIS_WFSS)


@hookimpl
def flat(model, refs, params):
    from spec2.steps.flat_field import apply_flat

    return apply_flat(model, refs.open("flat"), inverse=params["inverse"])


@hookimpl
def extract_2d(model, refs, params, members):
    from spec2.steps import wfss
    from spec2_niriss.wfss import NIS_WFSS

    return wfss.extract_2d(model, refs, params, members, NIS_WFSS)


@hookimpl
def srctype(model, params):
    from spec2.steps.srctype import set_slit_source_types

    return set_slit_source_types(model, source_type=params["source_type"])


@hookimpl
def photom(model, refs, params):
    from spec2.steps.call import forward_only

    forward_only(params, "NIRISS WFSS photom")
    from spec2.steps.grism_photom import calibrate_slits

    return calibrate_slits(model, refs.open("photom"))


@hookimpl
def extract(model, refs, params):
    from spec2.steps import wfss

    return wfss.extract_1d(model, refs, params)


@hookimpl
def wfss_contam(model, refs, params, members):
    from spec2.steps import wfss
    from spec2_niriss.wfss import NIS_WFSS

    return wfss.wfss_contam(model, refs, params, members, NIS_WFSS)


@hookimpl
def spec2_demo_data(directory, cache):
    """A crowded GR150C field; the truth shown is the brightest point source without
    emission lines (NIRISS does not resolve them) whose first-order trace no other
    source's crosses."""
    import numpy as np

    from spec2.demo import DemoCase
    from spec2_niriss.sim.wfss import simulate_wfss

    out = simulate_wfss(directory / "niriss_wfss", cache, n_sources=40, grism="GR150C")
    s = out["sources"]
    chosen = None
    for i in np.argsort(s.abmag):
        others = np.arange(s.label.size) != i
        near = others & (np.abs(s.y - s.y[i]) < 15) & (np.abs(s.x - s.x[i]) < 450)
        if not s.is_extended[i] and i % 3 != 0 and 60 < s.x[i] < 1700 and 20 < s.y[i] < 2028 and not near.any():
            chosen = int(i)
            break
    wl = np.linspace(1.25, 1.75, 1001)
    return [DemoCase(
        name="NIRISS WFSS",
        description=f"GR150C/F150W field of {s.label.size} sources (orders 1 and 2 cut out), "
                    f"the dispersed sky subtracted; truth shown: source {s.label[chosen]} "
                    f"(AB {s.abmag[chosen]:.1f})",
        inputs=[out["asn"]],
        truth_wavelength=wl,
        truth_flux=out["spectra"][chosen](wl),
        wavelength_range=(1.36, 1.64),
        source_id=int(s.label[chosen]),
        spectral_order=1,
    )]
