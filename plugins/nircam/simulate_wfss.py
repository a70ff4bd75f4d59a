"""NIRCam wide-field slitless field (NRC_WFSS): the sources, the exposure's header and
the source catalog jwst's source_catalog step would have written for the direct image.

The dispersed image itself is the next part of this simulator (issue 4); what is here
places a crowded field of point-like and extended sources on the detector and writes
their catalog (ECSV, with sky centroids and sky bounding-box corners) through the
exposure's imaging WCS, which is what the cut-out boxes of extract_2d depend on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spec2_nircam import instrument as ins

FIELD_RA, FIELD_DEC = 53.1624, -27.7914  # deg, the reference point
ROLL_REF = 21.7
VELOSYS = 14200.0  # m/s


@dataclass
class Sources:
    """Direct-image (0-based full-frame pixels) positions, Gaussian sigma (pixels), AB
    magnitude and extendedness of each source."""

    label: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    abmag: np.ndarray
    is_extended: np.ndarray


def random_sources(n, seed=5, shape=ins.FULL_SHAPE, margin=-40):
    """``n`` sources scattered over (and a little beyond: ``margin`` < 0) the detector."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    x = rng.uniform(margin, nx - 1 - margin, n)
    y = rng.uniform(margin, ny - 1 - margin, n)
    sigma = rng.uniform(0.8, 4.0, n)
    return Sources(label=np.arange(1, n + 1), x=x, y=y, sigma=sigma, abmag=rng.uniform(18.0, 25.5, n),
                   is_extended=sigma > 2.5)


def fill_wfss_header(m, pupil="GRISMR"):
    """Keywords of a full-frame NIRCam WFSS exposure pointed at the simulated field."""
    m.meta.telescope = "JWST"
    m.meta.instrument.name = "NIRCAM"
    m.meta.instrument.detector = ins.DETECTOR
    m.meta.instrument.channel = "LONG"
    m.meta.instrument.module = ins.MODULE
    m.meta.instrument.filter = ins.FILTER
    m.meta.instrument.pupil = pupil
    m.meta.exposure.type = "NRC_WFSS"
    m.meta.exposure.nints, m.meta.exposure.ngroups, m.meta.exposure.nframes = 1, 9, 1
    m.meta.exposure.readpatt = "MEDIUM8"
    m.meta.exposure.exposure_time = m.meta.exposure.effective_exposure_time = 1030.0
    m.meta.exposure.start_time = 60500.1
    m.meta.exposure.mid_time = 60500.1 + 515.0 / 86400
    m.meta.exposure.end_time = 60500.1 + 1030.0 / 86400
    m.meta.observation.date, m.meta.observation.time = "2024-07-19", "02:24:00.000"
    m.meta.subarray.name = "FULL"
    m.meta.subarray.xstart = m.meta.subarray.ystart = 1
    m.meta.subarray.ysize, m.meta.subarray.xsize = ins.FULL_SHAPE
    m.meta.subarray.fastaxis, m.meta.subarray.slowaxis = -1, 2
    w = m.meta.wcsinfo
    w.v2_ref, w.v3_ref, w.v3yangle, w.vparity = ins.V2_REF, ins.V3_REF, ins.V3_YANGLE, ins.VPARITY
    w.ra_ref, w.dec_ref, w.roll_ref, w.velosys = FIELD_RA, FIELD_DEC, ROLL_REF, VELOSYS
    m.meta.velocity_aberration.scale_factor = 1.0
    m.meta.pointing.ra_v1, m.meta.pointing.dec_v1, m.meta.pointing.pa_v3 = FIELD_RA, FIELD_DEC, ROLL_REF
    m.meta.coordinates.reference_frame = "ICRS"
    m.meta.cal_step.dq_init = m.meta.cal_step.ramp_fit = "COMPLETE"
    m.meta.bunit_data, m.meta.bunit_err = "DN/s", "DN/s"
    return m


def write_catalog(path, sources: Sources, detector_to_sky, half_size=3.0):
    """The ECSV catalog of ``sources``: centroids, sky centroid and the sky corners of a
    box of +- ``half_size`` sigma (whole pixels, as a segmentation map's bounding box)."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable

    def sky(x, y):
        ra, dec = detector_to_sky(np.asarray(x, float), np.asarray(y, float))
        return SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")

    reach = np.ceil(half_size * sources.sigma)
    xmin, xmax = np.round(sources.x - reach), np.round(sources.x + reach)
    ymin, ymax = np.round(sources.y - reach), np.round(sources.y + reach)
    table = QTable()
    table["label"] = sources.label.astype(np.int32)
    table["xcentroid"] = sources.x
    table["ycentroid"] = sources.y
    table["sky_centroid"] = sky(sources.x, sources.y)
    table["isophotal_abmag"] = sources.abmag
    table["isophotal_abmag_err"] = np.full(sources.x.size, 0.02)
    table["sky_bbox_ll"] = sky(xmin - 0.5, ymin - 0.5)
    table["sky_bbox_lr"] = sky(xmax + 0.5, ymin - 0.5)
    table["sky_bbox_ul"] = sky(xmin - 0.5, ymax + 0.5)
    table["sky_bbox_ur"] = sky(xmax + 0.5, ymax + 0.5)
    table["is_extended"] = sources.is_extended
    table.write(path, format="ascii.ecsv", overwrite=True)
    return path
