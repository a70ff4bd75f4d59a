"""The MSA metadata file (MSAMETFL) of a NIRSpec MOS exposure -> its open slitlets.

The file's SHUTTER_INFO table lists every open shutter of every MSA configuration of the
visit (one row per shutter, configuration and dither point) and SOURCE_INFO the planned
sources. An exposure takes the rows of its configuration (MSAMETID) and dither position
(PATT_NUM); the shutters of one ``slitlet_id`` form one slitlet, and a row naming a fixed
slit (``fixed_slit`` column) is a fixed slit observed within the MSA configuration
(quadrant 5). Each slitlet becomes a ``Slit`` tuple with the values jwst 3.0.0's
assign_wcs derives (extent along the slit, shutter_state string, source identity and its
estimated position in the primary shutter), in the file's order; the WCS code then works
on them as on fixed slits.

:func:`slitlets` is the pure part (tables in, Slits out); :func:`read_msa_file` and
:func:`open_msa_slits` do the I/O.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from spec2.errors import InputError
from spec2_nirspec.wcs_model import FIXED_SLIT_NUMS, SLIT_Y_RANGE, fs_slit_id

log = logging.getLogger("spec2")

SHUTTERS_PER_ROW = 365  # shutter_id = row + (column - 1) * 365, as in the msa reference tables
PITCH_Y = 1.15  # shutter pitch along the slit in shutter heights, as jwst extends slitlets
MARGIN = 0.5  # extra shutter heights beyond the end shutters' slit_y_range
DEFAULT_SCALES = (1.35, 1.15)  # pitch/size of a quadrant without a table (quadrant 5)


class MsaFileError(InputError):
    """The MSA metadata file is missing, unreadable, or does not describe this exposure."""


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode()
    return str(value).strip()


def _fixed_slit(row) -> str | None:
    """The fixed slit a row names, or None (MSA shutter; old files lack the column)."""
    try:
        name = _text(row["fixed_slit"])
    except (KeyError, IndexError, ValueError):
        return None
    return name if name in FIXED_SLIT_NUMS and name != "NONE" else None


def _nan_to_half(value):
    # an unknown position is the shutter centre (0.5 in the planning frame); the file's
    # float32 is kept, so that the slit-frame position is the same number as jwst's
    return np.nan_to_num(value, nan=0.5)


def shutter_state(open_columns, centre) -> str:
    """The slitlet's shutters from the lowest to the highest open column: ``1`` open,
    ``0`` closed, ``x`` the centre (primary) shutter."""
    lo, hi = min(open_columns), max(open_columns)
    opened = {int(c) for c in open_columns}
    return "".join("x" if c == centre else ("1" if c in opened else "0") for c in range(lo, hi + 1))


def _source_info(sources, source_id):
    """(name, alias, stellarity, ra, dec) of a SOURCE_INFO row, or None."""
    for s in sources:
        if s["source_id"] == source_id:
            return _text(s["source_name"]), _text(s["alias"]), s["stellarity"], s["ra"], s["dec"]
    return None


def _y_extent(columns, centre, slit_y_range):
    """(ymin, ymax) in shutter units about the centre shutter, over all the slitlet's
    shutters, with jwst's margin."""
    ylow, yhigh = slit_y_range
    return (ylow - MARGIN + (min(columns) - centre) * PITCH_Y,
            yhigh + MARGIN + (max(columns) - centre) * PITCH_Y)


def slitlets(shutters, sources, msa_metadata_id, dither_position, program, slit_y_range=SLIT_Y_RANGE,
             scales=None):
    """The Slit tuples of one configuration and dither point, in the file's order.

    shutters, sources -- SHUTTER_INFO and SOURCE_INFO rows (FITS table data or structured
    arrays with the file's column names); program -- the program number without leading
    zeros (virtual and background sources are named after it); scales -- {quadrant:
    (slit_xscale, slit_yscale)} from the msa reference. Raises MsaFileError for a slitlet
    with two primary shutters or a fixed slit over several rows.
    """
    from stdatamodels.jwst.transforms.models import Slit

    scales = scales or {}
    rows = [r for r in shutters
            if r["msa_metadata_id"] == msa_metadata_id and r["dither_point_index"] == dither_position]
    groups: dict = {}
    for r in rows:
        groups.setdefault(_fixed_slit(r) or r["slitlet_id"], []).append(r)

    out = []
    for slitlet_id, group in groups.items():
        where = f"slitlet {slitlet_id} of MSAMETID={msa_metadata_id}, dither point {dither_position}"
        columns = [r["shutter_column"] for r in group]
        primaries = [r for r in group if _text(r["primary_source"]) == "Y"]
        fixed = [_fixed_slit(r) is not None for r in group]
        if any(fixed) and not (all(fixed) and len(group) == 1):
            raise MsaFileError(f"MSA metadata file: {where} spreads a fixed slit over several rows (unsupported)")
        if len(primaries) > 1:
            raise MsaFileError(f"MSA metadata file: {where} has {len(primaries)} primary shutters (one at most)")

        slit_id = slitlet_id
        if all(fixed):
            if not primaries:
                log.warning("fixed slit %s of the MSA configuration holds no primary source: not calibrated",
                            slitlet_id)
                continue
            row = group[0]
            quadrant, xcen, ycen = 5, 0, 0
            shutter_id = FIXED_SLIT_NUMS[slitlet_id] - 1
            slit_id = fs_slit_id(slitlet_id)
            ymin, ymax = slit_y_range
            source_id = row["source_id"]
            xpos = _nan_to_half(row["estimated_source_in_shutter_x"])
            ypos = _nan_to_half(row["estimated_source_in_shutter_y"])
        elif not primaries:
            # background only: centred on the middle shutter, named after the slitlet
            lo, hi = min(columns), max(columns)
            ycen = lo + (hi - lo) // 2
            quadrant, xcen = group[0]["shutter_quadrant"], group[0]["shutter_row"]
            shutter_id = np.int64(xcen) + (np.int64(ycen) - 1) * SHUTTERS_PER_ROW
            ymin, ymax = _y_extent(columns, ycen, slit_y_range)
            source_id, xpos, ypos = slitlet_id, 0.5, 0.5
        else:
            # the first shutter not marked background places the slitlet (as jwst reads it)
            main = next(r for r in group if _text(r["background"]) == "N")
            xcen, ycen, quadrant = main["shutter_row"], main["shutter_column"], main["shutter_quadrant"]
            xpos = _nan_to_half(main["estimated_source_in_shutter_x"])
            ypos = _nan_to_half(main["estimated_source_in_shutter_y"])
            shutter_id = np.int64(xcen) + (np.int64(ycen) - 1) * SHUTTERS_PER_ROW
            ymin, ymax = _y_extent(columns, ycen, slit_y_range)
            source_id = primaries[-1]["source_id"]

        if not fixed[0] and not primaries:
            name, alias, stellarity, ra, dec = f"{program}_BKG{slitlet_id}", f"BKG{slitlet_id}", 0.0, 0.0, 0.0
        else:
            info = _source_info(sources, source_id)
            if info is None:
                log.warning("%s: source %s is not in SOURCE_INFO: named as a virtual source", where, source_id)
                info = (f"{program}_VRT{slitlet_id}", f"VRT{slitlet_id}", 0.0, 0.0, 0.0)
            name, alias, stellarity, ra, dec = info
        scale_x, scale_y = scales.get(quadrant, DEFAULT_SCALES)
        # the planning frame has its origin at a shutter corner; the slit frame at its centre
        out.append(Slit(slitlet_id, shutter_id, dither_position, xcen, ycen, ymin, ymax, quadrant, source_id,
                        shutter_state(columns, ycen), name, alias, stellarity, xpos - 0.5, ypos - 0.5, ra, dec,
                        scale_x, scale_y, slit_id))
    return out


# ---------------------------------------------------------------------------------------
# I/O
# ---------------------------------------------------------------------------------------


def msa_file_path(model, input_dir) -> Path:
    """The MSA metadata file an exposure names (MSAMETFL), next to its input."""
    name = model.meta.instrument.msa_metadata_file
    if name is None or str(name).strip() in ("", "N/A"):
        raise MsaFileError("NRS_MSASPEC exposure lacks MSAMETFL (the MSA metadata file)")
    path = Path(str(name).strip())
    if not path.is_absolute() and input_dir is not None:
        path = Path(input_dir) / path.name
    return path


def read_msa_file(path):
    """(SHUTTER_INFO rows, SOURCE_INFO rows) of an MSA metadata file."""
    from astropy.io import fits

    path = Path(path)
    if not path.is_file():
        raise MsaFileError(f"MSA metadata file {path} (MSAMETFL) not found next to the input")
    try:
        with fits.open(path, memmap=False) as hdul:
            missing = [t for t in ("SHUTTER_INFO", "SOURCE_INFO") if t not in hdul]
            if missing:
                raise MsaFileError(f"MSA metadata file {path} lacks the {' and '.join(missing)} table")
            return np.array(hdul["SHUTTER_INFO"].data), np.array(hdul["SOURCE_INFO"].data)
    except MsaFileError:
        raise
    except Exception as exc:  # noqa: BLE001 -- astropy raises OSError, TypeError, ValueError... on a damaged file
        raise MsaFileError(f"MSA metadata file {path} cannot be read as FITS: {exc}") from None


def quadrant_scales(msa_ref) -> dict:
    """{quadrant: (pitch/size along x, along y)} from the msa reference's shutter tables."""
    out = {}
    for q in range(1, 5):
        data = getattr(msa_ref, f"Q{q}").data
        out[q] = ((data["XC"][1] - data["XC"][0]) / data["SIZEX"][0], data["YC"][SHUTTERS_PER_ROW] / data["SIZEY"][0])
    return out


def open_msa_slits(model, input_dir, msa_ref, slit_y_range=SLIT_Y_RANGE):
    """The slitlets of a MOS exposure's configuration and dither point (MSAMETID,
    PATT_NUM), from the MSA metadata file next to its input."""
    inst = model.meta.instrument
    metadata_id, dither = inst.msa_metadata_id, model.meta.dither.position_number
    if metadata_id is None:
        raise MsaFileError("NRS_MSASPEC exposure lacks MSAMETID (its MSA configuration)")
    if dither is None:
        raise MsaFileError("NRS_MSASPEC exposure lacks PATT_NUM (its dither position)")
    path = msa_file_path(model, input_dir)
    shutters, sources = read_msa_file(path)
    known = sorted({int(v) for v in shutters["msa_metadata_id"]})
    if metadata_id not in known:
        raise MsaFileError(f"MSAMETID={metadata_id} is not in {path.name} (it holds {known})")
    program = str(model.meta.observation.program_number or "").lstrip("0")
    slits = slitlets(shutters, sources, metadata_id, dither, program, slit_y_range, quadrant_scales(msa_ref))
    if not slits:
        raise MsaFileError(f"{path.name} has no open shutter for MSAMETID={metadata_id} at dither point {dither}")
    return slits
