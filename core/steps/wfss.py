"""The steps of a wide-field slitless (WFSS) exposure, shared by every WFSS plugin.

A plugin describes its instrument once, as a :class:`WfssInstrument` (which keyword
names the grism and which way each grism disperses, what the wavelengthrange is keyed
by, the grism dispersion transform of its WCS, how a pixel's wavelength is found, the
angle the traces are turned by), and its hooks call the functions here with it:

    assign_wcs   the WFSS WCS (the instrument's dispersion, then the imaging WCS), the
                 dispersion direction, the FITS approximation, the association's names
    bkg_subtract the WFSSBKG reference scaled outside the sources' traces and subtracted
    extract_2d   one cut-out per source and order
    wfss_contam  the other sources' dispersed light removed from each cut-out
    extract_1d   the cut-outs box-extracted into the WFSS x1d layout

(photom is :func:`spec2.steps.grism_photom.calibrate_slits`, the same for every
instrument). Heavy imports happen inside the functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from spec2.errors import InputError, StepSkipped

log = logging.getLogger("spec2")


def unturned(model, specwcs) -> float:
    """The trace angle of an instrument whose traces are not turned: 0 degrees."""
    return 0.0


@dataclass(frozen=True)
class WfssInstrument:
    """What the shared WFSS steps need to know about one instrument.

    exp_type          -- the EXP_TYPE of its WFSS exposures (NRC_WFSS, NIS_WFSS)
    grism_keyword     -- the ``meta.instrument`` attribute naming the grism (NIRCam:
                         ``pupil``, NIRISS: ``filter``)
    dispersion_axis   -- {grism: 1 (along rows) or 2 (along columns)}, every grism
    range_keyword     -- the ``meta.instrument`` attribute whose value keys the
                         wavelengthrange reference (NIRCam: ``filter``, NIRISS: ``pupil``,
                         the blocking filter)
    dispersion        -- (model, open specwcs) -> the WCS transform (x, y, x0, y0, order)
                         -> (x0, y0, lambda, order) with its inverse, corrected to the
                         barycentre when VELOSYS is known
    pixel_wavelengths -- (GrismOrder, x, y, x0, y0, *, axis, rotation) -> the wavelength
                         (observed frame) of dispersed-image pixels for one source, the way
                         the instrument's forward dispersion finds it; axis "row" or
                         "column", rotation the trace angle
    trace_angle       -- (model, open specwcs) -> degrees the forward dispersion turns the
                         traces by (the backward dispersion, which places the boxes, turns
                         them back); 0 unless given
    """

    exp_type: str
    grism_keyword: str
    dispersion_axis: Mapping[str, int]
    range_keyword: str
    dispersion: Callable
    pixel_wavelengths: Callable
    trace_angle: Callable = unturned

    def grism(self, model) -> str:
        """The exposure's grism; InputError if it names none of this instrument's."""
        name = str(getattr(model.meta.instrument, self.grism_keyword) or "")
        if name not in self.dispersion_axis:
            raise InputError(f"{self.exp_type} needs {self.grism_keyword.upper()} "
                             f"{' or '.join(self.dispersion_axis)} (the grism), not {name or 'none'}")
        return name

    def range_filter(self, model) -> str:
        """The name the wavelengthrange reference lists this exposure's orders under."""
        return getattr(model.meta.instrument, self.range_keyword)


# -- assign_wcs ---------------------------------------------------------------------------

def build_wcs(model, instrument: WfssInstrument, specwcs, distortion, filteroffset):
    """The gwcs.WCS of a WFSS exposure: the instrument's grism dispersion from the
    ``grism_detector`` frame, then the imaging WCS (:mod:`spec2.wcs.grism_imaging`)."""
    from spec2.wcs.grism_imaging import imaging_pipeline, wfss_wcs

    if model.meta.exposure.type != instrument.exp_type:
        raise InputError(f"not a {instrument.exp_type} exposure (EXP_TYPE {model.meta.exposure.type})")
    instrument.grism(model)
    return wfss_wcs(instrument.dispersion(model, specwcs), imaging_pipeline(model, distortion, filteroffset))


def assign_wcs(model, refs, members, instrument: WfssInstrument):
    """Attach the WFSS WCS, the dispersion direction, the FITS approximation of the
    imaging WCS and the association's catalog, segmentation map and direct image names
    (as jwst records them), in place."""
    from spec2.steps.wfss_sources import record_members
    from spec2.wcs.fits_approximation import store_imaging_approximation
    from spec2.wcs.grism_imaging import imaging_pipeline

    grism = instrument.grism(model)  # a clear error for a wrong grism before any reference is looked up
    filteroffset = refs.open("filteroffset") if refs.path("filteroffset") is not None else None
    specwcs, distortion = refs.open("specwcs"), refs.open("distortion")
    record_members(model, members)
    model.meta.wcsinfo.specsys = "BARYCENT"
    model.meta.wcsinfo.dispersion_direction = instrument.dispersion_axis[grism]
    model.meta.wcs = build_wcs(model, instrument, specwcs, distortion, filteroffset)
    # wfss_wcs renames the frames it is given: the approximation gets a pipeline of its own
    store_imaging_approximation(model, imaging_pipeline(model, distortion, filteroffset))
    angle = instrument.trace_angle(model, specwcs)
    log.info("%s %s WCS%s", instrument.exp_type, grism, f": traces turned by {angle:.4f} deg" if angle else "")
    return model


# -- the sources' boxes: bkg_subtract and extract_2d ---------------------------------------

def cutout_wavelengths(model, orders, instrument: WfssInstrument, angle):
    """The wavelengths callable for :func:`spec2.steps.grism_cutouts.cut_out`: the
    instrument's forward dispersion on the cut-out grid, barycentric."""
    import numpy as np

    from spec2.wcs.velocity import velocity_factor

    axis = "row" if model.meta.wcsinfo.dispersion_direction == 1 else "column"
    velosys = model.meta.wcsinfo.velosys

    def wavelengths(box, xmin, ymin, shape):
        ny, nx = shape
        y, x = np.mgrid[:ny, :nx].astype(float)
        wl = instrument.pixel_wavelengths(orders[box.order], x + xmin, y + ymin, box.x0, box.y0, axis=axis,
                                          rotation=angle)
        wl = np.broadcast_to(wl, shape)
        return wl if velosys is None else wl * velocity_factor(velosys)

    return wavelengths


def bkg_subtract(model, refs, params, members, instrument: WfssInstrument):
    """bkg_subtract: the WFSSBKG reference scaled to the pixels outside every source's
    box in every order the wavelengthrange extracts (jwst's mask: no half-height, no
    brightness cap beyond wfss_mmag_extract), or to the user's wfss_mask; SKIPPED without
    a reference."""
    from spec2.steps.wfss_background import run_wfss_background, source_mask
    from spec2.steps.wfss_sources import catalog_path, source_boxes, wavelength_ranges
    from spec2.wcs.grism import specwcs_orders

    if refs.path("bkg") is None:
        raise StepSkipped("no WFSS background reference")
    specwcs, wavelengthrange = refs.open("specwcs"), refs.open("wavelengthrange")
    catalog = catalog_path(model, members)

    def boxes_mask(mmag_extract):
        ranges = wavelength_ranges(wavelengthrange, instrument.range_filter(model))
        boxes = source_boxes(model, catalog, specwcs_orders(specwcs), ranges,
                             rotation=-instrument.trace_angle(model, specwcs), mmag_extract=mmag_extract)
        return source_mask(model.data.shape, boxes)

    return run_wfss_background(model, refs.open("bkg"), params, boxes_mask)


def extract_2d(model, refs, params, members, instrument: WfssInstrument):
    """extract_2d: the MultiSlitModel of every selected source and order (jwst's
    parameters: extract_orders, source_ids, wfss_extract_half_height,
    wfss_mmag_extract, wfss_nbright)."""
    from spec2.steps.wfss_sources import (
        catalog_path,
        extract_sources,
        wavelength_ranges,
    )
    from spec2.wcs.grism import specwcs_orders

    catalog = catalog_path(model, members)
    wavelengthrange, specwcs = refs.open("wavelengthrange"), refs.open("specwcs")
    extract_orders = params["extract_orders"]
    source_ids = params["source_ids"]
    orders = specwcs_orders(specwcs)
    angle = instrument.trace_angle(model, specwcs)
    ranges = wavelength_ranges(wavelengthrange, instrument.range_filter(model), extract_orders)
    return extract_sources(model, catalog, orders, ranges, cutout_wavelengths(model, orders, instrument, angle),
                           rotation=-angle, half_height=params["wfss_extract_half_height"],
                           mmag_extract=params["wfss_mmag_extract"], nbright=params["wfss_nbright"],
                           source_ids=source_ids)


# -- wfss_contam, extract_1d --------------------------------------------------------------

def wfss_contam(model, refs, params, members, instrument: WfssInstrument):
    """wfss_contam with jwst's parameters (orders, magnitude_limit, wl_oversample,
    max_pixels_per_chunk); needs the association's direct_image and segmap members."""
    from spec2.steps.wfss_contam import contam_correct, member_path
    from spec2.steps.wfss_sources import catalog_path

    limit = params["magnitude_limit"]
    catalog = None if limit is None else catalog_path(model, members)
    result, _, _ = contam_correct(
        model, refs.open("wavelengthrange"), refs.open("photom"),
        member_path(model, members, "direct_image", "direct_image"),
        member_path(model, members, "segmap", "segmentation_map"),
        range_filter=instrument.range_filter(model),
        orders=params["orders"],
        magnitude_limit=limit, catalog=catalog,
        oversample=params["wl_oversample"], max_pixels=params["max_pixels_per_chunk"])
    return result


def extract_1d(model, refs, params):
    """extract_1d of the calibrated cut-outs, with the aperture correction matched on
    FILTER and PUPIL when apply_apcorr is set and there is a reference."""
    from spec2.steps.extract_slit import extraction_options
    from spec2.steps.extract_wfss import extract_wfss

    apcorr = refs.open("apcorr") if params["apply_apcorr"] and refs.path("apcorr") is not None else None
    m = model.meta.instrument
    return extract_wfss(model, apcorr, match={"filter": m.filter, "pupil": m.pupil},
                        options=extraction_options(params))
