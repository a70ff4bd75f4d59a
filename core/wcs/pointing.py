"""Telescope pointing: the (V2, V3) focal-plane frame to the sky, and back.

The attitude is given by the FITS keywords every JWST exposure carries: the reference
point (V2_REF, V3_REF, arcsec) lands on (RA_REF, DEC_REF) and V3 there points ROLL_REF
degrees east of north. The map is one rotation of the unit sphere, composed from the
five Euler angles in the order the JWST attitude convention defines (z, y, x, y, z).
"""

from __future__ import annotations

import numpy as np


def v2v3_to_sky(v2_ref, v3_ref, roll_ref, ra_ref, dec_ref):
    """astropy model (v2, v3 in arcsec) -> (ra, dec in deg), with an analytic inverse."""
    from astropy.modeling import models
    from astropy.modeling.rotations import RotationSequence3D
    from gwcs.geometry import CartesianToSpherical, SphericalToCartesian

    angles = [v2_ref / 3600.0, -v3_ref / 3600.0, roll_ref, dec_ref, -ra_ref]
    rotation = RotationSequence3D(angles, axes_order="zyxyz")
    model = (
        (models.Scale(1 / 3600.0) & models.Scale(1 / 3600.0))
        | SphericalToCartesian(wrap_lon_at=180)
        | rotation
        | CartesianToSpherical(wrap_lon_at=360)
    )
    model.name = "v23tosky"
    return model


def ideal_to_v2v3(x_idl, y_idl, v3_yangle, v2_ref, v3_ref, vparity):
    """Ideal-frame offsets (arcsec) to (V2, V3) arcsec (SIAF convention)."""
    a = np.deg2rad(v3_yangle)
    v2 = v2_ref + vparity * x_idl * np.cos(a) + y_idl * np.sin(a)
    v3 = v3_ref - vparity * x_idl * np.sin(a) + y_idl * np.cos(a)
    return v2, v3


def velocity_aberration(va_scale, v2_ref, v3_ref):
    """Differential velocity aberration: a scale about the reference point, or identity."""
    from astropy.modeling import models

    if va_scale is None or va_scale == 1:
        return models.Identity(2)
    if va_scale <= 0:
        raise ValueError("velocity aberration scale must be positive")
    v2_ref = v2_ref or 0.0
    v3_ref = v3_ref or 0.0
    shift = v2_ref * (1 - va_scale), v3_ref * (1 - va_scale)
    model = (models.Scale(va_scale) & models.Scale(va_scale)) | (
        models.Shift(shift[0]) & models.Shift(shift[1])
    )
    model.name = "DVA_Correction"
    return model
