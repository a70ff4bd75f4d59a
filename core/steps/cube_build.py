"""cube_build: IFU pixels to spectral cubes (``_s3d``), instrument-agnostic.

An IFU plugin answers the ``ifu_pixels`` hook (each valid pixel's sky corners and
wavelength range, :class:`spec2.algorithms.cube_pixels.IFUPixels`) and implements its
``cube_build`` hook by calling :func:`run`; this module groups the bands by
``output_type``, reads the ``cubepar`` reference, lays out the grid, weights and sums the
pixels, and builds the IFUCubeModel with the cube WCS jwst 3.0.0 writes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np

from spec2.algorithms import cube_dq, cube_grid, cube_params, cube_planes, cube_weights
from spec2.errors import InputError, StepFailed

log = logging.getLogger("spec2")

OUTPUT_TYPES = ("band", "channel", "grating", "multi")


def group_bands(bands, output_type):
    """Which bands go into which cube: ``{group label: [band, ...]}`` in first-seen order.

    band: one cube per (par1, par2); channel and grating: one per par1 (all of a MIRI
    channel's bands, all of a NIRSpec grating's filters); multi: one for everything.
    """
    if output_type not in OUTPUT_TYPES:
        raise InputError(f"cube_build.output_type must be one of {', '.join(OUTPUT_TYPES)}, not {output_type!r}")
    groups = OrderedDict()
    for band in bands:
        key = {"band": f"{band[0]}-{band[1]}", "channel": band[0], "grating": band[0], "multi": "multi"}[output_type]
        if band not in groups.setdefault(key, []):
            groups[key].append(band)
    return groups


def cubepar_tables(model):
    """The cubepar reference's tables as rows (:func:`spec2.algorithms.cube_params.table_rows`)."""
    get = lambda name: getattr(model, name, None)
    return {"main": cube_params.table_rows(get("ifucubepars_table")),
            "msm": cube_params.table_rows(get("ifucubepars_msm_table")),
            "emsm": cube_params.table_rows(get("ifucubepars_emsm_table"))}


def usable(pixels, wave_lo, wave_hi):
    """The pixels jwst maps: finite flux, neither DO_NOT_USE nor NON_SCIENCE, wavelength
    within [wave_lo, wave_hi]."""
    dq = np.asarray(pixels.dq).astype(np.uint32)
    keep = (np.isfinite(pixels.flux) & ((dq & (cube_dq.DO_NOT_USE | cube_dq.NON_SCIENCE)) == 0)
            & (pixels.wave >= wave_lo) & (pixels.wave <= wave_hi))
    return pixels.select(keep)


def make_grid(pixel_sets, cp, params):
    """The grid of one cube over every exposure's footprint (see
    :func:`spec2.algorithms.cube_grid.sky_grid`)."""
    coord_system = params.get("coord_system") or "skyalign"
    rot = params.get("cube_pa")
    if coord_system == "ifualign":
        rot = pixel_sets[0].ifu_angle
        if rot is None:
            raise InputError("cube_build.coord_system=ifualign: the instrument plugin gives no IFU angle")
    elif coord_system != "skyalign":
        raise InputError(f"cube_build.coord_system must be skyalign or ifualign, not {coord_system!r}")
    ra = np.concatenate([p.sky_footprint()[0] for p in pixel_sets])
    dec = np.concatenate([p.sky_footprint()[1] for p in pixel_sets])
    return cube_grid.sky_grid(ra, dec, cp.scale, cp.wave_min, cp.wave_max, cp.wave_step, rot_angle=rot,
                              ra_center=params.get("ra_center"), dec_center=params.get("dec_center"),
                              nspax_x=params.get("nspax_x"), nspax_y=params.get("nspax_y"))


def cube_sums(grid, cp, pixel_sets, flag_fov=True):
    """The weighted sums of every exposure's pixels on ``grid``, and the voxels in the
    field of view of any exposure (None when none was flagged: no exposure gives slice
    numbers, or ``flag_fov`` is off)."""
    total = cube_weights.Sums.zeros(int(np.prod(grid.shape)))
    fov = None
    for pixels in pixel_sets:
        if cp.weighting == "drizzle":
            margin = cp.wave_step + np.nanmax(pixels.dwave) if len(pixels) else 0.0
        else:
            margin = cp.roiw
        pixels = usable(pixels, grid.zcoord[0] - margin, grid.zcoord[-1] + margin)
        if not len(pixels):
            log.warning("cube_build: no valid pixel in band %s-%s", *pixels.band)
            continue
        if flag_fov and pixels.slice_no is not None:
            x, y = cube_grid.tangent_plane(grid.crval1, grid.crval2, cube_grid.wrap_ra(pixels.ra), pixels.dec,
                                           grid.rot_angle)
            # jwst looks for each plane's pixels within the mean plane width (drizzle) or roiw
            roiw = np.mean(grid.cdelt3_normal) if cp.weighting == "drizzle" else cp.roiw
            seen = cube_dq.field_of_view(grid, x, y, pixels.wave, pixels.slice_no, roiw)
            fov = seen if fov is None else fov | seen
        if cp.weighting == "drizzle":
            xi, eta = cube_grid.tangent_plane(grid.crval1, grid.crval2, cube_grid.wrap_ra(pixels.ra_corners),
                                              pixels.dec_corners, grid.rot_angle)
            total += cube_weights.drizzle_sums(grid, xi, eta, pixels.wave, pixels.dwave, pixels.flux, pixels.err)
        else:
            x, y = cube_grid.tangent_plane(grid.crval1, grid.crval2, cube_grid.wrap_ra(pixels.ra), pixels.dec,
                                           grid.rot_angle)
            total += cube_weights.shepard_sums(grid, x, y, pixels.wave, pixels.flux, pixels.err, cp.weighting,
                                               cp.rois, cp.roiw, cp.scalerad, cp.weight_power, cp.softrad)
    return total, fov


def cube_wcsinfo(grid):
    """The cube's WCS keywords (meta.wcsinfo) as jwst 3.0.0 writes them."""
    rot = np.radians(grid.rot_angle or 0.0)
    return {
        "crval1": grid.crval1, "crval2": grid.crval2, "crpix1": grid.crpix1, "crpix2": grid.crpix2,
        "cdelt1": grid.cdelt1 / 3600.0, "cdelt2": grid.cdelt2 / 3600.0, "crval3": grid.crval3, "cdelt3": grid.cdelt3,
        "crpix3": grid.crpix3, "ctype1": "RA---TAN", "ctype2": "DEC--TAN", "ctype3": "WAVE", "cunit1": "deg", "cunit2": "deg",
        "cunit3": "um", "wcsaxes": 3, "pc1_1": -np.cos(rot), "pc1_2": np.sin(rot), "pc1_3": 0.0, "pc2_1": np.sin(rot),
        "pc2_2": np.cos(rot), "pc2_3": 0.0, "pc3_1": 0.0, "pc3_2": 0.0, "pc3_3": 1.0,
    }


def cube_wcs(info, shape):
    """The cube's gwcs (detector x, y, z to RA, Dec, wavelength), built from its WCS
    keywords as jwst builds it from the FITS WCS, with the cube's bounding box."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf
    from gwcs import utils as gwutils
    from gwcs.wcs import WCS

    fits = {"WCSAXES": 3, "has_cd": False, "RADESYS": "ICRS"}
    for key in ("crpix", "crval", "cdelt", "ctype", "cunit"):
        fits[key.upper()] = np.array([info[f"{key}{i}"] for i in (1, 2, 3)])
    fits["CUNIT"] = np.array([u.Unit(v) for v in fits["CUNIT"]])
    fits["PC"] = np.array([[info[f"pc{i}_{j}"] for j in (1, 2, 3)] for i in (1, 2, 3)])
    spectral = models.Shift(-(info["crpix3"] - 1)) | models.Scale(info["cdelt3"]) | models.Shift(info["crval3"])
    transform = gwutils.make_fitswcs_transform(fits) & spectral
    detector = cf.CoordinateFrame(name="detector", naxes=3, axes_order=(0, 1, 2), unit=(u.pix, u.pix, u.pix),
                                  axes_type=["SPATIAL", "SPATIAL", "SPECTRAL"], axes_names=("x", "y", "z"),
                                  axis_physical_types=None)
    sky = cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS(), unit=(u.deg, u.deg),
                            axes_names=("RA", "DEC"))
    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.um,), axes_names=("wavelength",))
    wcs = WCS([(detector, transform), (cf.CompositeFrame([sky, spec], name="world"), None)])
    nz, ny, nx = shape
    wcs.bounding_box = ((0, nx - 1), (0, ny - 1), (0, nz - 1))
    return wcs


def cube_model(template, grid, cp, sums, fov=None):
    """An IFUCubeModel of the sums on ``grid``, with ``template``'s metadata (the first
    exposure's), the cube WCS and jwst's IFU keywords."""
    from stdatamodels.jwst import datamodels

    from spec2.models import new_model

    sci, err, dq, wmap = cube_planes.cube_planes(sums, grid.shape, fov)
    wave = np.asarray(grid.crval3 + (np.arange(grid.shape[0]) + 1 - grid.crpix3) * grid.cdelt3, np.float32)
    table = np.array([(wave[None].T,)], dtype=[("wavelength", "<f4", (len(wave), 1))])
    cube = new_model(datamodels.IFUCubeModel, data=sci, dq=dq, err=err, weightmap=wmap, wavetable=table)
    cube.update(template)
    info = cube_wcsinfo(grid)
    for key, value in info.items():
        setattr(cube.meta.wcsinfo, key, value)
    cube.meta.photometry.pixelarea_arcsecsq = grid.cdelt1 * grid.cdelt2
    cube.meta.photometry.pixelarea_steradians = grid.cdelt1 * grid.cdelt2 * 2.3504e-11
    ifu = cube.meta.ifu
    ifu.flux_extension, ifu.error_extension, ifu.error_type, ifu.dq_extension = "SCI", "ERR", "ERR", "DQ"
    if cp.weighting == "drizzle":
        ifu.weighting, ifu.weight_power, ifu.roi_wave, ifu.roi_spatial = "drizzle", 0, 0, 0
    else:
        ifu.weighting, ifu.weight_power = cp.weighting, cp.weight_power
        ifu.roi_wave, ifu.roi_spatial = float(cp.roiw), float(cp.rois)
    cube.meta.wcs = cube_wcs(info, grid.shape)
    cube.meta.cal_step.cube_build = "COMPLETE"
    return cube


def build_cubes(template, pixel_sets, tables, params, n_exposures=1):
    """One IFUCubeModel per ``output_type`` group of the bands in ``pixel_sets``:
    ``[(label, cube), ...]``. ``tables`` are :func:`cubepar_tables`; ``params`` the step's."""
    weighting = params.get("weighting") or "drizzle"
    groups = group_bands([p.band for p in pixel_sets], params.get("output_type") or "band")
    cubes = []
    for label, bands in groups.items():
        members = [p for p in pixel_sets if p.band in bands]
        cp = cube_params.cube_parameters(
            tables, bands, weighting, n_exposures=n_exposures, scalexy=params.get("scalexy") or 0.0,
            scalew=params.get("scalew") or 0.0, wavemin=params.get("wavemin"), wavemax=params.get("wavemax"),
            rois=params.get("rois") or 0.0, roiw=params.get("roiw") or 0.0,
            weight_power=params.get("weight_power", 2.0))
        grid = make_grid(members, cp, params)
        log.info("cube_build %s: %d x %d spaxels of %.3g\", %d planes %.5g-%.5g um (%s)", label, grid.shape[2],
                 grid.shape[1], cp.scale, grid.shape[0], cp.wave_min, cp.wave_max, cp.weighting)
        sums, fov = cube_sums(grid, cp, members, flag_fov=not params.get("skip_dqflagging"))
        if not np.any(sums.count):
            raise StepFailed(f"cube_build: the {label} cube holds no valid pixel (every pixel flagged or outside "
                             f"{cp.wave_min}-{cp.wave_max} um)")
        cubes.append((label, cube_model(template, grid, cp, sums, fov)))
    return cubes


def run(model, refs, params, pm):
    """The ``cube_build`` step of one IFU exposure: the ``ifu_pixels`` answer of the
    plugin that owns cube_build for the exposure's type, gridded into its ``_s3d``.

    Returns the IFUCubeModel; never modifies ``model``. An exposure whose bands make more
    than one cube under ``output_type`` is refused with the labels (spec2 writes one
    ``_s3d`` per exposure)."""
    from spec2.plugins import claims_of, owner_caller

    exp_type = model.meta.exposure.type
    owner = claims_of(pm).owner(exp_type, "cube_build")
    pixel_sets = owner_caller(pm, "ifu_pixels", owner)(model=model, refs=refs, params=params)
    if not pixel_sets:
        raise StepFailed(f"cube_build: the {owner} plugin gives no IFU pixels for this exposure")
    pixel_sets = list(pixel_sets)
    cubes = build_cubes(model, pixel_sets, cubepar_tables(refs.open("cubepar")), params)
    if len(cubes) > 1:
        raise InputError(f"cube_build: this exposure makes {len(cubes)} cubes under output_type="
                         f"{params.get('output_type')} ({', '.join(label for label, _ in cubes)}); "
                         "spec2 writes one _s3d per exposure: choose an output_type that gives one")
    return cubes[0][1]
