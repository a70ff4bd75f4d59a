"""Barycentric velocity correction of wavelengths (VELOSYS), shared by every mode."""

from __future__ import annotations

SPEED_OF_LIGHT = 299792458.0  # m/s


def velocity_factor(velosys) -> float:
    """lambda_barycentric / lambda_observed for a radial velocity ``velosys`` (m/s)."""
    return 1.0 / (1.0 + velosys / SPEED_OF_LIGHT)


def velocity_correction(velosys):
    """astropy model lambda_obs -> lambda_bary (the named Const1D jwst writes), with its inverse."""
    from astropy.modeling import models

    factor = velocity_factor(velosys)
    model = models.Identity(1) * models.Const1D(factor, name="velocity_correction")
    model.inverse = models.Identity(1) / models.Const1D(factor, name="inv_vel_correction")
    return model


def barycentric_dispersion(det2det, velosys):
    """A grism dispersion transform ending in (x0, y0, lambda, order), with lambda then
    corrected to the barycentre when ``velosys`` is known (jwst's composition)."""
    if velosys is None:
        return det2det
    from astropy.modeling.models import Identity, Mapping

    return det2det | Mapping((0, 1, 2, 3)) | Identity(2) & velocity_correction(velosys) & Identity(1)
