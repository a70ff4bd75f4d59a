"""NIRCam grism WCSs with jwst 3.0.0's frames and transforms, so that jwst and spec2 read
each other's products. Time series (NRC_TSGRISM):

    grism_detector --[subarray shift, source at XREF/YREF_SCI, grism dispersion,
                      velocity]--> direct_image (x, y, lambda, order)
    --[filter offset, imaging distortion]--> v2v3 --[DVA]--> v2v3vacorr --> world

Wide-field slitless (NRC_WFSS), where each source's direct-image position is an input
(the core's :mod:`spec2.steps.wfss` builds the chain from this module's dispersion):

    grism_detector (x, y, x0, y0, order) --[grism dispersion, velocity]--> detector
    (x0, y0, lambda, order) --[imaging distortion]--> v2v3 --> v2v3vacorr --> world

The dispersion transforms are stdatamodels' NIRCam grism models (built from the specwcs
lists unchanged); spec2's own steps evaluate wavelengths with the vectorised polynomials
of :mod:`spec2.algorithms.grism` instead of calling through the WCS per pixel.
"""

from __future__ import annotations

import logging

from spec2.errors import InputError

log = logging.getLogger("spec2")

TSGRISM = "NRC_TSGRISM"


def frames():
    """jwst's NIRCam grism coordinate frames, by name."""
    from astropy import coordinates as coord
    from astropy import units as u
    from gwcs import coordinate_frames as cf

    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    detector = cf.Frame2D(name="full_detector", axes_order=(0, 1), axes_names=("dx", "dy"), unit=(u.pix, u.pix))
    # jwst labels this frame in degrees although it carries arcsec; kept for identical products
    v2v3 = cf.Frame2D(name="v2v3_spatial", axes_order=(0, 1), axes_names=("v2", "v3"), unit=(u.deg, u.deg))
    v2v3vacorr = cf.Frame2D(name="v2v3vacorr_spatial", axes_order=(0, 1), axes_names=("v2", "v3"),
                            unit=(u.arcsec, u.arcsec))
    sky = cf.CelestialFrame(reference_frame=coord.ICRS(), name="icrs")
    return {
        "grism_detector": cf.Frame2D(name="grism_detector", axes_order=(0, 1), unit=(u.pix, u.pix)),
        "direct_image": cf.CompositeFrame([detector, spec], name="direct_image"),
        "v2v3": cf.CompositeFrame([v2v3, spec], name="v2v3"),
        "v2v3vacorr": cf.CompositeFrame([v2v3vacorr, spec], name="v2v3vacorr"),
        "world": cf.CompositeFrame([sky, spec], name="world"),
    }


def dispersion_transform(specwcs, velosys, pupil="GRISMR", inverse_y=False):
    """(x, y, x0, y0, order) -> (x0, y0, lambda, order) with its backward model, from an
    open NIRCAMGrismModel; lambda corrected to the barycentre when VELOSYS is known."""
    from stdatamodels.jwst.transforms.models import (
        NIRCAMBackwardGrismDispersion,
        NIRCAMForwardColumnGrismDispersion,
        NIRCAMForwardRowGrismDispersion,
    )

    from spec2.wcs.velocity import barycentric_dispersion

    def instance(attr):
        value = getattr(specwcs, attr, None)
        return None if value is None else getattr(value, "instance", value)

    lists = dict(lmodels=instance("displ"), xmodels=instance("dispx"), ymodels=instance("dispy"),
                 inv_lmodels=instance("invdispl"), inv_xmodels=instance("invdispx"))
    if inverse_y:  # jwst passes the column inverse for WFSS only
        lists["inv_ymodels"] = instance("invdispy")
    orders = instance("orders")
    forward_cls = NIRCAMForwardColumnGrismDispersion if pupil == "GRISMC" else NIRCAMForwardRowGrismDispersion
    det2det = forward_cls(orders, **lists)
    det2det.inverse = NIRCAMBackwardGrismDispersion(orders, **lists)
    return barycentric_dispersion(det2det, velosys)


def source_reference(model):
    """(XREF_SCI, YREF_SCI): where jwst's WCS puts the source in the direct image."""
    w = model.meta.wcsinfo
    if w.siaf_xref_sci is None or w.siaf_yref_sci is None:
        raise InputError("XREF_SCI and YREF_SCI are required for NRC_TSGRISM (the source position)")
    return float(w.siaf_xref_sci), float(w.siaf_yref_sci)


def check_tsgrism(model):
    if model.meta.exposure.type != TSGRISM:
        raise InputError(f"not a NIRCam grism time series (EXP_TYPE {model.meta.exposure.type})")
    if model.meta.instrument.module != "A":
        raise InputError("NRC_TSGRISM is calibrated for module A only")
    if "DHS" in str(model.meta.subarray.name or "").upper():
        raise InputError("NRC_TSGRISM DHS (dispersed Hartmann sensor) subarrays are not supported yet")
    if "GRISMR" not in str(model.meta.instrument.pupil or ""):
        raise InputError(f"NRC_TSGRISM supports the GRISMR pupil only, not {model.meta.instrument.pupil}")


def build_tsgrism_wcs(model, specwcs, distortion, filteroffset):
    """The gwcs.WCS of a NIRCam grism time series."""
    from astropy.modeling.models import Const1D, Identity, Mapping
    from gwcs.wcs import WCS

    from spec2.wcs.grism_imaging import imaging_distortion, subarray_shift
    from spec2.wcs.pointing import v2v3_to_sky, velocity_aberration

    check_tsgrism(model)
    w = model.meta.wcsinfo
    for key in ("v2_ref", "v3_ref", "roll_ref", "ra_ref", "dec_ref"):
        if getattr(w, key) is None:
            raise InputError(f"pointing keyword {key.upper()} is missing; cannot place the source on the sky")
    xc, yc = source_reference(model)
    xcenter, ycenter = Const1D(xc), Const1D(yc)
    xcenter.inverse, ycenter.inverse = Const1D(xc), Const1D(yc)
    det2det = dispersion_transform(specwcs, w.velosys)
    place = Mapping((0, 1, 0, 1, 2)) | (Identity(2) & xcenter & ycenter & Identity(1)) | det2det
    shift = subarray_shift(model)
    sub2direct = place if shift is None else (shift & Identity(1) | place)

    to_v2v3 = imaging_distortion(model, distortion, filteroffset) & Identity(2)
    dva = velocity_aberration(model.meta.velocity_aberration.scale_factor, w.v2_ref, w.v3_ref) & Identity(2)
    to_sky = v2v3_to_sky(w.v2_ref, w.v3_ref, w.roll_ref, w.ra_ref, w.dec_ref) & Identity(2)
    f = frames()
    return WCS([(f["grism_detector"], sub2direct), (f["direct_image"], to_v2v3), (f["v2v3"], dva),
                (f["v2v3vacorr"], to_sky), (f["world"], None)])


def assign_tsgrism_wcs(model, specwcs, distortion, filteroffset):
    """Attach the WCS to a TSGRISM rateints model in place and fill wcsinfo as jwst does."""
    model.meta.wcs = build_tsgrism_wcs(model, specwcs, distortion, filteroffset)
    model.meta.wcsinfo.specsys = "BARYCENT"
    model.meta.wcsinfo.dispersion_direction = 1  # GRISMR disperses along rows
    log.info("NRC_TSGRISM WCS: source at (XREF_SCI, YREF_SCI) = %s", source_reference(model))
    return model


def wfss_dispersion(model, specwcs):
    """The dispersion transform of a NIRCam WFSS exposure's WCS (GRISMR: along rows,
    GRISMC: along columns); :func:`spec2.steps.wfss.build_wcs` puts the imaging WCS
    after it."""
    return dispersion_transform(specwcs, model.meta.wcsinfo.velosys, pupil=model.meta.instrument.pupil,
                                inverse_y=True)
