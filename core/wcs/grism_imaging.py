"""The imaging part of a slitless grism WCS, shared by NIRCam and NIRISS (jwst builds
both instruments' imaging WCSs the same way):

    detector --[subarray shift, filter offset, distortion]--> v2v3 --[DVA]-->
    v2v3vacorr --[attitude]--> world

and the frame chain of a WFSS exposure, whose first transform is the instrument's grism
dispersion (x, y, x0, y0, order) -> (x0, y0, lambda, order) and whose imaging frames
carry the wavelength and order along (jwst's composite frames and names, so the products
read alike in both pipelines).
"""

from __future__ import annotations

from spec2.errors import InputError


def subarray_shift(model):
    """Shift from subarray to full-frame pixels, or None for full frame (jwst's rule)."""
    from astropy.modeling.models import Identity, Shift

    xstart, ystart = model.meta.subarray.xstart, model.meta.subarray.ystart
    tx = Shift(xstart - 1) if xstart is not None and xstart != 1 else Identity(1)
    ty = Shift(ystart - 1) if ystart is not None and ystart != 1 else Identity(1)
    if isinstance(tx, Identity) and isinstance(ty, Identity):
        return None
    return tx & ty




def filter_offset(filteroffset, filter_name, pupil):
    """(column, row) offset of this filter + pupil in the filteroffset file, or None."""
    if filteroffset is None:
        return None
    rows = filteroffset.filters
    for row in getattr(rows, "instance", rows):
        if str(row.get("filter", "")).upper() == filter_name and str(row.get("pupil", "")).upper() == pupil:
            col, rw = row.get("column_offset"), row.get("row_offset")
            if col is not None and rw is not None:
                return float(col), float(rw)
    return None




def imaging_distortion(model, distortion, filteroffset):
    """Direct-image pixels -> (V2, V3) arcsec: the filter offset then the distortion, with
    the bounding box jwst binds (the reference's, or the data's frame)."""
    from astropy.modeling import bind_bounding_box
    from astropy.modeling.models import Shift

    transform = distortion.model
    try:
        bbox = transform.bounding_box.bounding_box(order="F")
    except NotImplementedError:
        bbox = None
    offset = filter_offset(filteroffset, model.meta.instrument.filter, model.meta.instrument.pupil)
    if offset is not None:
        transform = Shift(offset[0]) & Shift(offset[1]) | transform
    ny, nx = model.data.shape[-2:]
    bind_bounding_box(transform, ((-0.5, nx - 0.5), (-0.5, ny - 0.5)) if bbox is None else bbox, order="F")
    return transform




def imaging_pipeline(model, distortion, filteroffset):
    """The imaging WCS steps of a grism exposure (detector -> v2v3 -> v2v3vacorr -> world),
    as jwst's NIRCam and NIRISS imaging WCSs build them: subarray shift, filter offset, distortion,
    velocity aberration, attitude."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling import bind_bounding_box
    from gwcs import coordinate_frames as cf

    from spec2.wcs.pointing import v2v3_to_sky, velocity_aberration

    w = model.meta.wcsinfo
    for key in ("v2_ref", "v3_ref", "roll_ref", "ra_ref", "dec_ref"):
        if getattr(w, key) is None:
            raise InputError(f"pointing keyword {key.upper()} is missing; cannot place the sources on the sky")
    to_v2v3 = imaging_distortion(model, distortion, filteroffset)
    shift = subarray_shift(model)
    if shift is not None:
        to_v2v3 = shift | to_v2v3
        sub = model.meta.subarray
        bind_bounding_box(to_v2v3, ((-0.5, sub.xsize - 0.5), (-0.5, sub.ysize - 0.5)), order="F")
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    v2v3 = cf.Frame2D(name="v2v3", axes_order=(0, 1), axes_names=("v2", "v3"), unit=(u.arcsec, u.arcsec))
    v2v3vacorr = cf.Frame2D(name="v2v3vacorr", axes_order=(0, 1), axes_names=("v2", "v3"),
                            unit=(u.arcsec, u.arcsec))
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    dva = velocity_aberration(model.meta.velocity_aberration.scale_factor, w.v2_ref, w.v3_ref)
    to_sky = v2v3_to_sky(w.v2_ref, w.v3_ref, w.roll_ref, w.ra_ref, w.dec_ref)
    return [(detector, to_v2v3), (v2v3, dva), (v2v3vacorr, to_sky), (world, None)]



def wfss_wcs(det2det, imaging):
    """The gwcs.WCS of a WFSS exposure: ``det2det`` from the ``grism_detector`` frame,
    then the steps of ``imaging`` (from :func:`imaging_pipeline`) with the spectral axis
    passed through."""
    from astropy import units as u
    from astropy.modeling.models import Identity
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    grism_detector = cf.Frame2D(name="grism_detector", axes_order=(0, 1), axes_names=("x_grism", "y_grism"),
                                unit=(u.pix, u.pix))
    pipeline = [(grism_detector, det2det)]
    imaging = list(imaging)
    world = imaging.pop()[0]
    world.name = "sky"
    for frame, transform in imaging:
        spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
        name = frame.name
        frame.name = name + "spatial"  # jwst's names: the composite frame keeps the plain one
        pipeline.append((cf.CompositeFrame([frame, spec], name=name), transform & Identity(2)))
    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    pipeline.append((cf.CompositeFrame([world, spec], name="world"), None))
    return WCS(pipeline)
