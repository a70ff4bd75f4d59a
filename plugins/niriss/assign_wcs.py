"""NIRISS WFSS WCS (NIS_WFSS): the grism dispersion with jwst 3.0.0's layout
(stdatamodels' NIRISS grism transforms), which the core's :mod:`spec2.steps.wfss` puts
in front of the imaging WCS of :mod:`spec2.wcs.grism_imaging`:

    grism_detector (x, y, x0, y0, order) --[NIRISS forward dispersion, velocity]-->
    detector (x0, y0, lambda, order) --> v2v3 --> v2v3vacorr --> world

The traces are turned by the filter wheel's offset from its calibrated position,
theta = FWCPOS - fwcpos_ref: jwst's forward dispersion turns them by +theta and its
backward dispersion (which places the cut-out boxes) by -theta; spec2 does the same so
the products agree.
"""

from __future__ import annotations

from spec2.errors import InputError


def wheel_angle(model, specwcs) -> float:
    """theta = FWCPOS - fwcpos_ref (degrees): how far the filter wheel turned the traces."""
    fwcpos = model.meta.instrument.filter_position
    if fwcpos is None:
        raise InputError("FWCPOS (the filter-wheel position) is missing; NIRISS grism traces depend on it")
    return float(fwcpos) - float(specwcs.fwcpos_ref)


def wfss_dispersion(model, specwcs):
    """(x, y, x0, y0, order) -> (x0, y0, lambda, order) with its backward model, from an
    open NIRISSGrismModel (FILTER GR150C: along rows, GR150R: along columns); lambda
    corrected to the barycentre when VELOSYS is known."""
    from stdatamodels.jwst.transforms.models import (
        NIRISSBackwardGrismDispersion,
        NIRISSForwardColumnGrismDispersion,
        NIRISSForwardRowGrismDispersion,
    )

    from spec2.wcs.velocity import barycentric_dispersion

    def instance(attr):
        value = getattr(specwcs, attr)
        return getattr(value, "instance", value)

    theta = wheel_angle(model, specwcs)
    orders = instance("orders")
    grism = model.meta.instrument.filter
    forward = NIRISSForwardRowGrismDispersion if grism == "GR150C" else NIRISSForwardColumnGrismDispersion
    det2det = forward(orders, lmodels=instance("displ"), xmodels=instance("dispx"), ymodels=instance("dispy"),
                      theta=theta)
    det2det.inverse = NIRISSBackwardGrismDispersion(
        orders, lmodels=instance("invdispl"), xmodels=instance("dispx"), ymodels=instance("dispy"), theta=-theta)
    return barycentric_dispersion(det2det, model.meta.wcsinfo.velosys)
