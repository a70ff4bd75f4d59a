"""wfss_contam for wide-field slitless exposures: model every source's dispersed light from the
direct image and its segmentation map, and remove from each cut-out the light of the
other sources (jwst 3.0.0's default path: a flat F_nu spectrum per direct-image pixel,
one iteration, no spectral fit).

The simulation runs per order over the segmentation map's pixels sorted by source, in
chunks of ``max_pixels_per_chunk``: the chunk's first pixel fixes its wavelength grid
(as jwst), every pixel goes through the direct image's WCS to the sky, through the
exposure's grism WCS back to the detector and along the trace; then
:mod:`spec2.algorithms.wfss_contam` shares and sums the light. Sky -> detector is
evaluated once per pixel instead of once per pixel and wavelength (jwst's cost), the
rest are the same transforms on the same arrays.

The full-frame model is the sum of every source and order; a cut-out's contamination is
that frame minus its own source's model on the cut-out's grid, and is subtracted from its
data. Cut-outs of sources missing from the segmentation map are dropped (as jwst's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spec2.algorithms import wfss_contam as wc
from spec2.errors import InputError, ReferenceFileError, StepSkipped

log = logging.getLogger("spec2")

# jwst simulates a fixed 2048 x 2048 frame whatever the exposure's size
FRAME = (2048, 2048)


@dataclass
class Simulation:
    """Simulated dispersed light: {(order, source id): (bounds, image)} in the order the
    sources were simulated (orders ascending, ids ascending), and the segmentation ids."""

    images: dict = field(default_factory=dict)
    source_ids: set = field(default_factory=set)

    def frame(self, shape=FRAME):
        """Full-frame sum of every source and order, added in simulation order."""
        full = np.zeros(shape)
        for bounds, image in self.images.values():
            wc.add_to_frame(full, bounds[0], bounds[2], image)
        return full


def background_subtracted(data):
    """The direct image minus a smooth background: photutils' Background2D with jwst's
    settings (boxes of a fifth of the image, 3 x 3 median filter, 3-sigma clipped
    medians, boxes more than 30 % masked excluded)."""
    import warnings

    from astropy.stats import SigmaClip
    from astropy.utils.exceptions import AstropyUserWarning
    from photutils.background import Background2D, MedianBackground

    box = (int(data.shape[0] / 5), int(data.shape[1] / 5))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=AstropyUserWarning)
        bkg = Background2D(data, box, filter_size=(3, 3), sigma_clip=SigmaClip(sigma=3.0),
                           bkg_estimator=MedianBackground(), exclude_percentile=30.0)
        return data - bkg.background


def photom_response(photom, filter_name, pupil, order):
    """(wavelengths, sensitivity in MJy micron s / (DN sr)) of the photom row for
    FILTER, PUPIL and order (no time dependence, as jwst's contamination model)."""
    from spec2.algorithms.photom import find_row
    from spec2.steps.grism_photom import unit_factor

    table = photom.phot_table
    index = find_row(table, filter=filter_name, pupil=pupil, order=order)
    if index is None:
        raise ReferenceFileError(f"photom reference has no row for FILTER={filter_name} PUPIL={pupil} ORDER={order}")
    # a file without PHOT_UNIT is taken to be in the expected unit (jwst stops there)
    factor = unit_factor(getattr(photom, "phot_unit", None))
    row = table[index]
    return wc.response_curve(row["wavelength"], row["relresponse"], row["photmjsr"], factor, int(row["nelem"]))


def wfss_range(wavelengthrange, filter_name, order):
    """(wmin, wmax) of one order: the last matching row of the wavelengthrange table."""
    found = None
    for row in wavelengthrange.wavelengthrange:
        if row[1] == filter_name and row[0] == order:
            found = (row[2], row[3])
    if found is None:
        raise ReferenceFileError(f"wavelengthrange has no range for order {order} and filter {filter_name}")
    return found


def transform_orders(wcs):
    """Orders the exposure's backward grism dispersion knows, or None if it has none."""
    for model in wcs.backward_transform.traverse_postorder():
        if type(model).__name__.endswith("BackwardGrismDispersion"):
            return sorted(int(o) for o in model.orders)
    return None


def select_orders(wavelengthrange, wcs, requested=None):
    """Orders to simulate: the wavelengthrange's (or those of ``requested`` it lists),
    kept only if the WCS disperses them; sorted."""
    listed = [int(o) for o in wavelengthrange.order]
    orders = listed if requested is None else [o for o in requested if o in listed]
    if requested is not None and len(orders) < len(requested):
        log.warning("wfss_contam: orders %s not all in the wavelengthrange (%s)", requested, listed)
    known = transform_orders(wcs)
    if known is not None:
        orders = [o for o in orders if o in known]
    return sorted(orders)


class Disperser:
    """Disperses direct-image pixels through a grism exposure's WCS (one exposure).

    ``xs, ys`` (0-based pixels), ``fluxes`` (MJy/sr) and ``ids`` describe every labelled
    pixel; ``direct_wcs`` maps direct-image pixels to the sky, ``grism_wcs`` is the
    exposure's (any cut-out's) WFSS WCS."""

    def __init__(self, xs, ys, fluxes, ids, direct_wcs, grism_wcs, *, oversample=2, max_pixels=5000,
                 frame=FRAME):
        self.xs, self.ys, self.fluxes, self.ids = xs, ys, fluxes, ids
        self.oversample, self.max_pixels, self.frame = oversample, int(max_pixels), frame
        self.to_detector = grism_wcs.get_transform("world", "detector")
        self.to_grism = grism_wcs.get_transform("detector", "grism_detector")
        # each pixel's sky position once for all orders (jwst: once per chunk and order)
        self.ra, self.dec = direct_wcs(xs + 0.5, ys + 0.5, with_bounding_box=False)
        self._detector = None

    def _direct_positions(self, order):
        if self._detector is None:
            x, y, _, _ = self.to_detector(self.ra, self.dec, 1, order)
            self._detector = (np.asarray(x), np.asarray(y))
        return self._detector

    def chunk_grid(self, i, order, wmin, wmax):
        """The wavelength grid of a chunk whose first pixel is pixel ``i`` (scalar
        transform calls, as jwst makes them)."""
        x, y, _, _ = self.to_detector(self.ra[i], self.dec[i], 1, order)
        start = self.to_grism(x, y, wmin, order)[:2]
        end = self.to_grism(x, y, wmax, order)[:2]
        return wc.wavelength_grid(start, end, wmin, wmax, self.oversample)

    def disperse(self, order, wmin, wmax, sens_waves, sens, selected=None):
        """{source id: (bounds, image)} of this order for the selected ids (all if None)."""
        pick = np.isin(self.ids, selected) if selected is not None else np.ones(self.ids.size, bool)
        sel = np.flatnonzero(pick)
        sel = sel[np.argsort(self.ids[sel])]  # jwst's grouping (default argsort), hence its chunks
        xd, yd = self._direct_positions(order)
        nx, ny = self.frame[1], self.frame[0]
        merged = {}
        for start in range(0, sel.size, self.max_pixels):
            chunk = sel[start : start + self.max_pixels]
            lambdas = self.chunk_grid(chunk[0], order, wmin, wmax)
            dlam = lambdas[1] - lambdas[0]
            n_lam, n_pix = lambdas.size, chunk.size
            x0 = np.repeat(xd[chunk][np.newaxis, :], n_lam, axis=0)
            y0 = np.repeat(yd[chunk][np.newaxis, :], n_lam, axis=0)
            lam2 = np.repeat(lambdas[:, np.newaxis], n_pix, axis=1)
            xg, yg = self.to_grism(x0, y0, lam2, order)[:2]
            if xg.min() >= nx or xg.max() < 0 or yg.min() >= ny or yg.max() < 0:
                continue
            px, py, area, index = wc.clipped_unit_pixels(xg, yg, nx, ny)
            pixel = index % n_pix
            counts = wc.dispersed_counts(self.fluxes[chunk][pixel], area, np.take(lam2, index), dlam,
                                         sens_waves, sens)
            for sid, (bounds, image) in wc.source_images(px, py, counts, self.ids[chunk][pixel]).items():
                merged[sid] = wc.merge_source_image(merged.get(sid), bounds, image)
        return merged


def simulate(disperser, orders, ranges, responses, selected=None) -> Simulation:
    """Simulation of every order; ``ranges``/``responses``/``selected`` are per order
    (selected[order] None: every source; an order absent from selected: skipped)."""
    sim = Simulation(source_ids=set(int(i) for i in np.unique(disperser.ids)))
    for order in orders:
        if selected is not None and order not in selected:
            continue
        wmin, wmax = ranges[order]
        waves, sens = responses[order]
        ids = None if selected is None else selected[order]
        for sid, (bounds, image) in disperser.disperse(order, wmin, wmax, waves, sens, ids).items():
            # kept in float32, as jwst keeps each source's model (a SlitModel's data)
            sim.images[(order, sid)] = (bounds, image.astype(np.float32))
    return sim


def correct_slits(model, sim: Simulation):
    """Subtract each cut-out's contamination in place; return {slit index: contamination
    (float64, the cut-out's shape)} for the slits kept. Slits of sources absent from the
    segmentation map are removed (jwst's output lists only the others)."""
    keep = [s for s in model.slits if s.source_id in sim.source_ids]
    if len(keep) != len(model.slits):
        log.info("wfss_contam: %d cut-outs of sources outside the segmentation map dropped",
                 len(model.slits) - len(keep))
        while len(model.slits):
            model.slits.pop()
        model.slits.extend(keep)
    full = sim.frame()
    contamination = []
    for slit in model.slits:
        data = np.asarray(slit.data)
        own = sim.images.get((slit.meta.wcsinfo.spectral_order, slit.source_id))
        placed = None
        if own is not None:
            bounds, image = own
            # the model's corner relative to the cut-out's (both 0-based full frame)
            placed = wc.onto_cutout(data.shape, data.dtype, bounds[0] - (slit.xstart - 1),
                                    bounds[2] - (slit.ystart - 1), image)
        if placed is None:
            log.warning("wfss_contam: no model of source %s order %s on its cut-out; contamination 0",
                        slit.source_id, slit.meta.wcsinfo.spectral_order)
            contam = np.zeros_like(data)
        else:
            contam = wc.cut_frame(full, slit.xstart - 1, slit.ystart - 1, slit.xsize, slit.ysize) - placed
        slit.data = data - contam
        contamination.append(contam)
    return contamination


def direct_scene(direct_path, segmap_path):
    """(xs, ys, fluxes, ids, direct WCS) of every labelled direct-image pixel, the
    direct image background-subtracted first (pixels in row-major order)."""
    from stdatamodels.jwst import datamodels

    with datamodels.open(segmap_path) as seg_model:
        seg = np.asarray(seg_model.data)
    with datamodels.open(direct_path) as direct:
        image = background_subtracted(direct.data)
        wcs = direct.meta.wcs
    if wcs is None:
        raise InputError(f"direct image {Path(direct_path).name} has no WCS")
    ys, xs = np.nonzero(seg)
    return xs, ys, image[ys, xs], seg[ys, xs], wcs


def member_path(model, members, exptype, attr):
    """The association member of ``exptype``, else the name recorded in ``meta``."""
    listed = (members or {}).get(exptype) or []
    name = listed[0] if listed else getattr(model.meta, attr)
    if not name:
        raise StepSkipped(f"no {exptype} member (needed to model the contamination)")
    path = Path(name)
    if not path.is_file():
        raise InputError(f"{exptype} {path} does not exist")
    return path


def contam_correct(model, wavelengthrange, photom, direct_path, segmap_path, *, range_filter, orders=None,
                   magnitude_limit=None, catalog=None, oversample=2, max_pixels=5000):
    """wfss_contam on a WFSS MultiSlitModel (DN/s cut-outs), in place. ``range_filter``
    is the name the wavelengthrange lists the exposure's orders under (the instrument's:
    see :meth:`spec2.steps.wfss.WfssInstrument.range_filter`).

    Returns (model, simulation, {slit index: contamination}). Raises StepSkipped when no
    order can be simulated or no source passes the magnitude limit."""
    grism_wcs = model.slits[0].meta.wcs
    spec_orders = select_orders(wavelengthrange, grism_wcs, orders)
    if not spec_orders:
        raise StepSkipped("no spectral order both in the wavelengthrange and the WCS")
    ins = model.meta.instrument
    ranges = {o: wfss_range(wavelengthrange, range_filter, o) for o in spec_orders}
    responses = {o: photom_response(photom, ins.filter, ins.pupil, o) for o in spec_orders}
    selected = None
    if magnitude_limit is not None:
        from spec2.grism_catalog import read_catalog

        table = read_catalog(catalog)
        o1 = responses[1] if 1 in responses else photom_response(photom, ins.filter, ins.pupil, 1)
        min1 = wc.min_response(*o1)
        selected = {}
        for o in spec_orders:
            limit = wc.order_magnitude_limit(o, magnitude_limit, wc.min_response(*responses[o]), min1)
            bright = table.abmag < limit  # NaN magnitudes never pass, as in jwst
            if bright.any():
                selected[o] = [int(i) for i in table.label[bright]]
        if not selected:
            raise StepSkipped(f"no source brighter than the magnitude limit {magnitude_limit}")
    xs, ys, fluxes, ids, direct_wcs = direct_scene(direct_path, segmap_path)
    disperser = Disperser(xs, ys, fluxes, ids, direct_wcs, grism_wcs, oversample=oversample,
                          max_pixels=max_pixels)
    sim = simulate(disperser, spec_orders, ranges, responses, selected)
    contamination = correct_slits(model, sim)
    log.info("wfss_contam: %d sources in orders %s; %d cut-outs corrected", len(sim.source_ids), spec_orders,
             len(model.slits))
    return model, sim, contamination

