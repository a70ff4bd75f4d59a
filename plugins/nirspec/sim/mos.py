"""Simulated NIRSpec MOS (NRS_MSASPEC): an MSA configuration, its metadata file and the
exposures of both detectors.

A configuration is a list of :class:`Slitlet` (quadrant, shutter row, open columns, the
source and its position in the primary shutter). :func:`write_msa_file` writes it as the
``*_msa.fits`` file the observatory delivers (SHUTTER_INFO and SOURCE_INFO tables with
jwst's column names and FITS formats), with every dither point of a three-point nod (the
source moves one shutter along the slitlet) and a second configuration id, so that
readers must choose by MSAMETID and PATT_NUM. :func:`simulate_mos_exposure` reads that
file back as spec2 does, builds the exposure's WCS and injects, through it, a uniform
sky into every open shutter, extended sources as uniform surface brightness over their
slitlet and point sources as a wavelength-dependent Gaussian along the slit at their
planned position; noise and bad pixels as for the fixed slits.

Count rates are what the MOS calibration references imply (``slit_count_rate``): the
quadrant F-flat x S-flat x D-flat, the MOS path loss (a point source by its position in
its shutter, uniform light by the shutter configuration), the bar shadow on uniform
light, the MOS photometric response and each shutter's pixel solid angle; an off-centre
point source's light is shifted along the dispersion as the wavecorr reference says.
The truths are the analytic functions the reference files tabulate
(:mod:`spec2_nirspec.sim.references_cal`), so a calibrated ``_cal`` gives back the
injected surface brightness (MJy/sr) or flux density (MJy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spec2_nirspec import instrument as ins
from spec2_nirspec.sim import msa_quadrants as msaq

PROGRAM = "01234"
SKY_MJY_SR = 0.3
NOD_OFFSETS = {1: 0, 2: 1, 3: -1}  # dither point -> primary shutter offset (columns)
POINT, EXTENDED = "POINT", "EXTENDED"


@dataclass
class Slitlet:
    """One planned slitlet.

    kind -- POINT, EXTENDED, "background" (no source: every shutter marked background) or
            "virtual" (a primary shutter whose source id is not in SOURCE_INFO)
    columns -- the open shutter columns (1-based, along the slit); the primary shutter is
            the middle open one, moved by the nod offset when the slitlet is long enough
    xpos, ypos -- the source in its shutter, planning frame (0..1, 0.5 = centre)
    fixed_slit -- a fixed slit's name instead of shutters (FS in an MSA configuration)
    """

    slitlet_id: int
    quadrant: int
    row: int
    columns: tuple
    kind: str = POINT
    stellarity: float = 1.0
    xpos: float = 0.5
    ypos: float = 0.5
    scale: float = 1.0  # source brightness relative to the default spectrum
    fixed_slit: str | None = None

    @property
    def source_id(self) -> int:
        if self.kind == "background":
            return 0
        return -self.slitlet_id if self.kind == "virtual" else 1000 + self.slitlet_id

    def primary_column(self, dither: int) -> int | None:
        if self.kind == "background" or self.fixed_slit:
            return None
        cols = sorted(self.columns)
        centre = cols[len(cols) // 2]
        moved = centre + NOD_OFFSETS.get(dither, 0)
        return moved if moved in cols else centre


def default_configuration() -> list[Slitlet]:
    """14 slitlets: every quadrant, 1x1 to 1x5 (one with a closed shutter), point sources
    on and off centre, extended sources, background-only slitlets, a virtual source, a
    source in fixed slit S200A1; on G235M/F170LP all fall on NRS1, four reach NRS2."""
    return [
        Slitlet(1, 1, 100, (20, 21, 22), POINT, 0.95, 0.30, 0.62),
        Slitlet(2, 1, 250, (60,), POINT, -1.0, 0.5, 0.5, 1.5),
        Slitlet(3, 1, 180, (120, 121, 122, 123, 124), EXTENDED, 0.2),
        Slitlet(4, 1, 300, (150, 151, 152), POINT, 0.9, 0.65, 0.40),
        Slitlet(5, 2, 150, (30, 31, 32), "background"),
        Slitlet(6, 2, 320, (88, 89, 91), EXTENDED, 0.5),
        Slitlet(7, 2, 60, (150, 151), POINT, 0.8, 0.55, 0.45),
        Slitlet(8, 3, 60, (25, 26, 27), POINT, 0.99, 0.42, 0.58),
        Slitlet(9, 3, 300, (100, 101, 102), POINT, 0.85, 0.5, 0.5, 2.0),
        Slitlet(10, 3, 220, (140,), "virtual", 0.0),
        Slitlet(11, 4, 200, (40, 41, 42), EXTENDED, 0.1),
        Slitlet(12, 4, 340, (110, 111, 112), POINT, 0.97, 0.20, 0.50),
        Slitlet(13, 4, 120, (160,), "background"),
        Slitlet(14, 5, 0, (0,), POINT, 0.92, 0.45, 0.55, fixed_slit="S200A1"),
    ]


def large_configuration(n_per_quadrant=42, seed=7) -> list[Slitlet]:
    """About 4 x n_per_quadrant 1x3 slitlets (point and extended sources, every tenth
    background), all on NRS1 for G235M: the speed benchmark's scale."""
    rng = np.random.default_rng(seed)
    out = []
    step = (msaq.N_COLUMNS - 3) // n_per_quadrant
    for q in range(1, 5):
        rows = (5, 110) if q in (3, 4) else (5, 360)
        for k in range(n_per_quadrant):
            sid = len(out) + 1
            c = 2 + k * step
            kind = "background" if sid % 10 == 0 else (POINT if sid % 3 else EXTENDED)
            out.append(Slitlet(sid, q, int(rng.integers(*rows)), (c, c + 1, c + 2), kind,
                               float(rng.uniform(0.8, 1.0) if kind == POINT else rng.uniform(0.0, 0.7)),
                               float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))))
    return out


# ---------------------------------------------------------------------------------------
# The MSA metadata file
# ---------------------------------------------------------------------------------------


def _shutter_rows(slitlets, metadata_id, dithers):
    rows = []
    for d in dithers:
        for s in slitlets:
            primary = s.primary_column(d)
            for c in s.columns:
                main = c == primary or (s.fixed_slit is not None)
                rows.append((s.slitlet_id, metadata_id, s.quadrant if not s.fixed_slit else 0,
                             s.row, c, s.source_id, "N" if main else "Y", "OPEN",
                             s.xpos if main else np.nan, s.ypos if main else np.nan, d,
                             "Y" if main and s.kind != "background" else "N", s.fixed_slit or "NONE"))
    return rows


def source_sky_position(slitlet: Slitlet, refs, filt):
    """(ra, dec) of a slitlet's source from the MSA geometry, fore optics, OTE and the
    simulated pointing (at 2 um)."""
    from spec2.wcs.pointing import v2v3_to_sky
    from spec2_nirspec.sim.exposures import ROLL_REF, TARGET_DEC, TARGET_RA

    if slitlet.fixed_slit:
        _idx, xc, yc, _size = ins.FIXED_SLITS[slitlet.fixed_slit]
        sx, sy = ins.slit_size_m(slitlet.fixed_slit)
        x, y = xc + (slitlet.xpos - 0.5) * sx, yc + (slitlet.ypos - 0.5) * sy
    else:
        sx, sy = msaq.shutter_size_m()
        px, py = msaq.pitch_m()
        col = slitlet.primary_column(1) or slitlet.columns[0]
        x, y = msaq.quadrant_model(slitlet.quadrant)(
            (slitlet.row - 1) * px + (slitlet.xpos - 0.5) * sx, (col - 1) * py + (slitlet.ypos - 0.5) * sy)
    xo, yo = refs["fore"].model(x, y, 2e-6)
    v2, v3 = refs["ote"].model(xo, yo)
    return tuple(float(v) for v in v2v3_to_sky(ins.V2_CENTRE, ins.V3_CENTRE, ROLL_REF, TARGET_RA, TARGET_DEC)(v2, v3))


def write_msa_file(path, slitlets, refs=None, filt="F170LP", metadata_id=1, dithers=(1, 2, 3), others=None):
    """Write the ``*_msa.fits`` of a configuration (every dither point), plus ``others``
    ({metadata id: slitlets}) as further configurations of the visit."""
    from astropy.io import fits

    rows = _shutter_rows(slitlets, metadata_id, dithers)
    for mid, more in (others or {}).items():
        rows += _shutter_rows(more, mid, dithers)
    names = ("slitlet_id", "msa_metadata_id", "shutter_quadrant", "shutter_row", "shutter_column", "source_id",
             "background", "shutter_state", "estimated_source_in_shutter_x", "estimated_source_in_shutter_y",
             "dither_point_index", "primary_source", "fixed_slit")
    formats = ("I", "I", "I", "I", "I", "J", "1A", "6A", "E", "E", "I", "1A", "7A")
    cols = list(zip(*rows))
    shutter = fits.BinTableHDU.from_columns(
        [fits.Column(name=n, format=f, array=np.array(c)) for n, f, c in zip(names, formats, cols)],
        name="SHUTTER_INFO")
    sources = [s for s in list(slitlets) + [t for more in (others or {}).values() for t in more]
               if s.kind not in ("background", "virtual")]
    positions = [source_sky_position(s, refs, filt) if refs else (0.0, 0.0) for s in sources]
    src_cols = {
        "program": ("J", [int(PROGRAM)] * len(sources)),
        "source_id": ("J", [s.source_id for s in sources]),
        "source_name": ("20A", [f"{int(PROGRAM)}_{s.source_id}" for s in sources]),
        "alias": ("31A", [f"src{s.source_id}" for s in sources]),
        "catalog_id": ("20A", [str(s.source_id) for s in sources]),
        "ra": ("D", [p[0] for p in positions]),
        "dec": ("D", [p[1] for p in positions]),
        "preimage_id": ("30A", ["None"] * len(sources)),
        "stellarity": ("D", [s.stellarity for s in sources]),
    }
    source = fits.BinTableHDU.from_columns(
        [fits.Column(name=n, format=f, array=np.array(v)) for n, (f, v) in src_cols.items()], name="SOURCE_INFO")
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"], primary.header["INSTRUME"] = "JWST", "NIRSPEC"
    primary.header["PROGRAM"], primary.header["FILENAME"] = PROGRAM, Path(path).name
    shape = (msaq.N_COLUMNS * 2, msaq.N_ROWS * 2)
    fits.HDUList([primary, fits.ImageHDU(np.zeros(shape, np.float32), name="SHUTTER_IMAGE"), shutter, source]
                 ).writeto(path, overwrite=True)
    return Path(path)


# ---------------------------------------------------------------------------------------
# Failed-open shutters (the msaoper reference)
# ---------------------------------------------------------------------------------------

# (quadrant, row, column, which state says open): stuck open where light reaches NRS1,
# one also NRS2, one open only in the TA state; plus operable and failed-closed ones
FAILED_OPEN = ((1, 200, 80, "state"), (2, 100, 120, "Internal state"), (3, 250, 62, "state"),
               (4, 50, 10, "TA state"))
OTHER_SHUTTERS = ((1, 10, 10, "closed"), (2, 300, 5, "closed"), (3, 20, 170, "normal"))


def write_msaoper(path):
    """The msaoper reference (JSON): the shutters whose operability is not nominal."""
    import json

    entries = []
    for q, x, y, state in FAILED_OPEN:
        entry = {"Q": q, "x": x, "y": y, "state": "closed", "TA state": "closed", "Internal state": "normal",
                 "Vignetted": "no"}
        entry[state] = "open"
        entries.append(entry)
    for q, x, y, state in OTHER_SHUTTERS:
        entries.append({"Q": q, "x": x, "y": y, "state": state, "TA state": state, "Internal state": "normal",
                        "Vignetted": "no"})
    doc = {"title": "Simulated MSA operability", "reftype": "MSAOPER", "instrument": "NIRSPEC",
           "telescope": "JWST", "pedigree": "DUMMY", "author": "spec2 simulator", "useafter": "2022-01-01T00:00:00",
           "exp_type": "NRS_MSASPEC", "description": "Simulated failed-open and failed-closed shutters",
           "msaoper": entries}
    Path(path).write_text(json.dumps(doc, indent=1))
    return Path(path)


# ---------------------------------------------------------------------------------------
# Exposures
# ---------------------------------------------------------------------------------------


@dataclass
class MosSetup:
    grating: str = "G235M"
    detector: str = "NRS1"
    metadata_id: int = 1
    dither: int = 1
    seed: int = 11
    leakage: bool = False  # add the light leaking through the closed MSA (see leakage_rate)
    imprint: bool = False  # an imprint (leakage calibration) exposure: the leakage alone
    extra: dict = field(default_factory=dict)


def leakage_rate(detector, shape):
    """DN/s leaking through the closed MSA shutters and their gaps onto the detector: a
    faint glow, brighter towards the detector's centre, the same in a science exposure and
    in its imprint exposure (which imprint_subtract removes)."""
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    level = 0.012 if detector == "NRS1" else 0.008  # about a third of the sky's DN/s in a shutter
    return level * np.exp(-(((x - nx / 2) / (0.6 * nx)) ** 2 + ((y - ny / 2) / (0.5 * ny)) ** 2))


def _spectrum(wavelength_um):
    from spec2_nirspec.sim.exposures import default_spectrum

    return default_spectrum(wavelength_um)


def extended_brightness(planned: Slitlet, wavelength_um, spectrum=_spectrum):
    """Surface brightness (MJy/sr) of an extended source, uniform over its slitlet."""
    return planned.scale * spectrum(wavelength_um) / spectrum(2.0) * 2.0


def point_flux(planned: Slitlet, wavelength_um, spectrum=_spectrum):
    """Flux density (MJy) of a point source."""
    return planned.scale * spectrum(wavelength_um) * 1e-6


def slit_count_rate(slit, planned: Slitlet, setup: MosSetup, x, y, ys, lam_um, spectrum=_spectrum,
                    sky=SKY_MJY_SR):
    """Noiseless DN/s at the pixels (x, y; slit-frame y ``ys``, wavelength ``lam_um``) of
    one slit: the sky and any extended source as uniform light through the shutters'
    path loss and bar shadow, a point source as its PSF along the slit at its planned
    position with its point-source path loss, at its own wavelength (off-centre across
    the shutter, its light lands shifted along the dispersion, as wavecorr undoes), all
    through the flat field and the photometric response (and for surface brightness the
    pixel's solid angle) of the MOS references -- or the fixed-slit ones for a fixed
    slit of the configuration, as the pipelines calibrate it. NaN off the slit."""
    from spec2_nirspec.sim import references_cal as cal

    filt = ins.FILTER_FOR[setup.grating]
    fixed = slit.quadrant == 5
    state = slit.shutter_state or "x"
    if fixed:
        area = cal.slit_area_sr(slit.name)
        flat = lambda lam: cal.flat_truth(setup.detector, x, y, lam, slit.name, filt, setup.grating)
        response = lambda lam: cal.photom_truth(slit.name, filt, setup.grating, lam)
        uniform = cal.pathloss_truth(slit.name, lam_um, 0.0, 0.0, "EXTENDED")
        height, aperture = ins.FIXED_SLITS[slit.name][3][1], slit.name
    else:
        area = cal.shutter_area_sr(slit.quadrant, slit.xcen, slit.ycen)
        flat = lambda lam: cal.mos_flat_truth(setup.detector, x, y, lam, slit.quadrant, slit.xcen, slit.ycen)
        response = lambda lam: cal.mos_photom_truth(setup.grating, lam)
        yscale = slit.slit_yscale or 1.15
        uniform = (cal.mos_slitlet_pathloss_truth(state, lam_um, 0.0, 0.0, "EXTENDED")
                   * cal.slitlet_barshadow_truth(state, ys / yscale, lam_um))
        height, aperture = msaq.OPEN_ARCSEC[1], "S200A1"  # a shutter is 0.2" wide, as S200A1
    brightness = np.full(lam_um.shape, sky)
    if planned.kind == EXTENDED:
        brightness = brightness + extended_brightness(planned, lam_um, spectrum)
    dn = brightness * area * uniform * flat(lam_um) / response(lam_um)
    if planned.kind in (POINT, "virtual") and slit.source_xpos is not None:
        xpos, ypos = float(slit.source_xpos), float(slit.source_ypos)
        offset_px = cal.wavecorr_offset_truth(aperture, lam_um * 1e-6, xpos)
        lam_src = lam_um + offset_px * np.gradient(lam_um, axis=1)
        sigma = ins.psf_sigma_arcsec(lam_src)
        d_arcsec = (ys - ypos) * height
        profile = 0.1 / (np.sqrt(2 * np.pi) * sigma) * np.exp(-0.5 * (d_arcsec / sigma) ** 2)
        throughput = (cal.pathloss_truth(slit.name, lam_src, xpos, ypos, "POINT") if fixed
                      else cal.mos_slitlet_pathloss_truth(state, lam_src, xpos, ypos, "POINT"))
        dn = dn + point_flux(planned, lam_src, spectrum) * profile * throughput * flat(lam_src) / response(lam_src)
    return dn


def simulate_mos_exposure(path, setup: MosSetup, ref_paths, msa_path, slitlets, spectrum=_spectrum,
                          sky=SKY_MJY_SR):
    """Write one NRS_MSASPEC _rate file seeing the configuration of ``msa_path``; return
    (path, the slits on its detector)."""
    from spec2_nirspec.msa_metadata import open_msa_slits
    from spec2_nirspec.sim.exposures import (
        ROLL_REF,
        TARGET_DEC,
        TARGET_RA,
        Setup,
        _add_noise,
        _reference_models,
        _wcs_paths,
        blank_exposure,
        slit_pixels,
    )
    from spec2_nirspec.wcs_model import build_slit_wcs

    base = Setup(grating=setup.grating, detector=setup.detector, exp_type="NRS_MSASPEC", primary="NONE",
                 seed=setup.seed)
    rng = np.random.default_rng(setup.seed)
    model = blank_exposure(base)
    m = model.meta
    m.instrument.fixed_slit = "NONE"
    m.instrument.msa_metadata_file = Path(msa_path).name
    m.instrument.msa_metadata_id = setup.metadata_id
    m.instrument.msa_configuration_id = setup.metadata_id
    m.dither.position_number = setup.dither
    m.dither.primary_type = "NONE"
    m.dither.nod_type = "3-SHUTTER-SLITLET"
    m.dither.x_offset, m.dither.y_offset = 0.0, 0.0
    m.target.source_type_apt = None
    m.wcsinfo.v2_ref, m.wcsinfo.v3_ref = ins.V2_CENTRE, ins.V3_CENTRE
    m.wcsinfo.ra_ref, m.wcsinfo.dec_ref = TARGET_RA, TARGET_DEC
    m.pointing.ra_v1, m.pointing.dec_v1, m.pointing.pa_v3 = TARGET_RA, TARGET_DEC, ROLL_REF
    m.target.ra, m.target.dec = TARGET_RA, TARGET_DEC
    refs = _reference_models(_wcs_paths(ref_paths, base))
    slits = open_msa_slits(model, Path(msa_path).parent, refs["msa"])
    wcs, slits = build_slit_wcs(model, refs, slits)
    plan = {s.fixed_slit or s.slitlet_id: s for s in slitlets}

    ny, nx = model.data.shape
    rate = leakage_rate(setup.detector, (ny, nx)) if setup.leakage else np.zeros((ny, nx))
    if setup.imprint:  # the light path closed: only what leaks through the MSA reaches the detector
        m.exposure.imprint = True
        slits = []
    for slit in slits:
        x, y, ys, lam = slit_pixels(wcs, slit.slit_id, (ny, nx))
        dn = slit_count_rate(slit, plan[slit.name], setup, x.astype(int), y.astype(int), ys, lam * 1e6, spectrum,
                             sky)
        inside = np.isfinite(dn)  # off the slit, or where the source's own wavelength is undefined
        rate[y[inside].astype(int), x[inside].astype(int)] += dn[inside]
    _add_noise(model, rate, rng, None)
    model.save(str(path))
    return Path(path), slits


def simulate_mos(directory, cache, detectors=("NRS1", "NRS2"), grating="G235M", large=False, dithers=(1,),
                 imprint=False, sky=SKY_MJY_SR):
    """The reference files, an MSA metadata file and one exposure per detector and dither
    point; returns {"msa": path, "slitlets": [...], (detector, dither): rate path}.

    With several ``dithers`` (nod points) or ``imprint``, also a spec2 association per
    detector, ``("asn", detector)``: a product per dither point whose ``background``
    members are the other nod points (MOS nod subtraction) and whose ``imprint`` member is
    the detector's imprint exposure, ``("imprint", detector)``; every exposure then holds
    the light leaking through the MSA that the imprint measures. Without nods the MOS
    background is the master background from the background slitlets (no members).
    """
    from spec2.association import write_nod_association
    from spec2_nirspec.sim.exposures import (
        Setup,
        _reference_models,
        _wcs_paths,
        write_references,
    )
    from spec2_nirspec.sim.references_cal import write_mos_reference_set

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = write_references(cache)
    write_mos_reference_set(cache)  # the MOS calibration files, selected for NRS_MSASPEC
    paths["msaoper"] = cache.publish("nirspec", "msaoper", ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE"),
                                     ("NRS1|NRS2", "NRS_MSASPEC"), "spec2sim_nrs_msaoper.json", write_msaoper)
    cache.finish()
    slitlets = large_configuration() if large else default_configuration()
    # a second configuration of the visit, which these exposures must not pick up
    other = [Slitlet(1, 2, 30, (70, 71, 72), POINT, 0.9), Slitlet(2, 3, 40, (10,), EXTENDED, 0.3)]
    refs = _reference_models(_wcs_paths(paths, Setup(grating=grating)))
    msa = write_msa_file(directory / f"jw{PROGRAM}005001_01_msa.fits", slitlets, refs, ins.FILTER_FOR[grating],
                         others={2: other})
    out: dict = {"msa": msa, "slitlets": slitlets, "references": paths}
    for det in detectors:
        rates = []
        for d in dithers:
            name = f"jw{PROGRAM}005001_01101_0000{d}_{det.lower()}_rate.fits"
            setup = MosSetup(grating, det, dither=d, seed=30 + d, leakage=imprint)
            out[(det, d)], _ = simulate_mos_exposure(directory / name, setup, paths, msa, slitlets, sky=sky)
            rates.append(out[(det, d)])
        extra = {}
        if imprint:
            name = f"jw{PROGRAM}005001_01102_00001_{det.lower()}_rate.fits"
            setup = MosSetup(grating, det, dither=1, seed=50, leakage=True, imprint=True)
            out[("imprint", det)], _ = simulate_mos_exposure(directory / name, setup, paths, msa, slitlets, sky=sky)
            extra["imprint"] = [out[("imprint", det)]]
        if len(dithers) > 1 or imprint:
            asn = directory / f"jw{PROGRAM}-a3005_spec2_{det.lower()}_asn.json"
            out[("asn", det)] = write_nod_association(asn, rates, [p.name.replace("_rate.fits", "") for p in rates],
                                                      extra_members=extra)
    return out
