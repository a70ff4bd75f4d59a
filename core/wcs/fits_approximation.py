"""The FITS (TAN + SIP) approximation of an imaging WCS that jwst stores in the WFSS
exposures' headers (``meta.wcsinfo``: CRPIX/CRVAL/CD, CTYPE, the SIP coefficients when
needed), so that tools reading plain FITS WCS can place the direct image.

gwcs fits it (``WCS.to_fits_sip``) with jwst's default accuracy: 0.01 pixel both ways,
the lowest SIP degree from 1 to 5 that reaches it, a 12 x 12 grid over the detector.
"""

from __future__ import annotations

MAX_SIP_DEGREE = 6
# keys a previous approximation may have left, removed before the new one is stored
_STALE = ["naxis", "cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2", "a_order", "b_order", "ap_order",
          "bp_order"] + [f"{s}_{i}_{j}" for i in range(10) for j in range(10) for s in ("a", "b", "ap", "bp")]


def store_imaging_approximation(model, imaging_pipeline, max_pix_error=0.01, max_inv_pix_error=0.01, npoints=12):
    """Fit the imaging WCS (a gwcs pipeline list) of ``model`` and store the FITS
    keywords in ``model.meta.wcsinfo`` in place. Returns the FITS header, or None (with a
    warning, as jwst) when the accuracy cannot be reached."""
    import logging

    from gwcs.wcs import WCS

    ny, nx = model.data.shape[-2:]
    imaging = WCS(imaging_pipeline)
    imaging.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    w = model.meta.wcsinfo
    crpix = [w.crpix1, w.crpix2]
    if None in crpix:
        crpix = None
    try:
        header = imaging.to_fits_sip(max_pix_error=max_pix_error, degree=range(1, MAX_SIP_DEGREE),
                                     max_inv_pix_error=max_inv_pix_error, inv_degree=range(1, MAX_SIP_DEGREE),
                                     npoints=npoints, crpix=crpix, projection="TAN")
    except (ValueError, RuntimeError) as exc:
        logging.getLogger("spec2").warning("no FITS SIP approximation of the imaging WCS: %s", exc)
        return None
    del header["naxis*"]
    for key in _STALE:
        if key in w.instance:
            del w.instance[key]
    w.instance.update({k.lower(): v for k, v in header.items()})
    return header
