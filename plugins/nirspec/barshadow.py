"""NIRSpec MOS bar shadow: the shade the MSA's bars cast on light filling a slitlet.

Uniform (extended) light through a slitlet of several shutters is dimmed where the bars
between shutters sit. The BARSHADOW reference holds the shadow of a lone open shutter
(``data1x1``) and of the middle shutter of three open ones (``data1x3``), each over two
shutter pitches in y (rows, CRVAL2/CDELT2: -1..1 in 1001 rows, so one pitch is 500 rows)
and wavelength in x (columns, CRVAL1/CDELT1 in metres, as the WCS gives wavelengths).

The shadow of a whole slitlet is joined from half-shutter pieces of those tables, one
per shutter boundary, chosen by whether the shutters on either side of it are open or
closed (``shutter_state``: "1" open, "0" closed, "x" open with the source); rows where
two pieces meet are averaged. Each pixel then reads the joined shadow at its slit_frame
y (in pitches: y / slit_yscale) and wavelength, bilinearly. Point sources get no
correction (their light is not spread over the bars) and a shadow of ones is stored.
The arithmetic (shared joint rows, float32 corrections) is jwst 3.0.0's, so products
are identical.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.wcs.compiled import compile_model

log = logging.getLogger("spec2")

#: Rows per shutter pitch in the reference tables (CDELT2 = 2/1000).
PITCH_ROWS = 500
#: Slit pitch over slit height, when the slit does not carry its own (slit_yscale).
DEFAULT_YSCALE = 1.15


def shutter_pieces(data1x1, data1x3):
    """The half-shutter pieces a slitlet's shadow is joined from, keyed by what lies on
    either side of the joint: "first" (bottom edge to the first centre), "open_open",
    "open_closed", "closed_open", "closed_closed" (centre to next centre, 501 rows each,
    the first row shared with the piece before) and "last" (last centre to top edge)."""
    centre = PITCH_ROWS
    return {
        "first": data1x1[: centre + 1],
        "open_open": data1x3[: centre + 1],
        "open_closed": data1x1[centre:],
        "closed_open": data1x1[: centre + 1],
        # two closed shutters in a row: no table for it, the deepest shadow there is
        "closed_closed": np.full((centre + 1, data1x1.shape[1]), np.nanmin(data1x1)),
        "last": data1x1[centre + 1 :],
    }


def _append(shadow, piece, row):
    """Average ``piece``'s first row into ``shadow[row]``, copy the rest after it;
    return the row the next piece starts on."""
    shadow[row] = 0.5 * (shadow[row] + piece[0])
    shadow[row + 1 : row + piece.shape[0]] = piece[1:]
    return row + piece.shape[0] - 1


def join_shadow(pieces, shutter_state):
    """The shadow [row, wavelength] of a slitlet of ``len(shutter_state)`` shutters.

    Rows run upwards over (n + 1) pitches; shutter k's centre is on row 500 (k + 1)
    counted from the bottom, the first character of ``shutter_state`` being the bottom
    shutter. The first shutter counts as open whatever its state (as in jwst).
    """
    first = pieces["first"]
    shadow = np.zeros((PITCH_ROWS * (len(shutter_state) + 1), first.shape[1]))
    shadow[: first.shape[0]] = first
    row = first.shape[0] - 1
    previous = "open"
    for state in shutter_state[1:]:
        current = "closed" if state == "0" else "open"
        row = _append(shadow, pieces[f"{previous}_{current}"], row)
        previous = current
    _append(shadow, pieces["last"], row)
    return shadow


def shadow_rows(yslit_pitches, shutter_state, nrows):
    """Fractional row of the joined shadow at slit_frame y (in pitches, 0 at the centre
    of the source shutter "x"). Without an "x" jwst's index arithmetic places the
    fiducial one shutter beyond the last; kept for identical results."""
    fiducial = len(shutter_state) - shutter_state.find("x")
    return nrows - PITCH_ROWS * fiducial + yslit_pitches * PITCH_ROWS


def is_uniform(slit, source_type=None) -> bool:
    """Extended unless (forced or recorded) POINT; no source type counts as extended."""
    kind = source_type or slit.source_type
    return not (kind and kind.upper() == "POINT")


def slit_shadow(slit, barshadow_model, source_type=None):
    """The float32 correction (the shadow) at every pixel of one slit, or None when it
    gets none (a point source, or a slit without shutters)."""
    from gwcs.wcstools import grid_from_bounding_box
    from scipy.ndimage import map_coordinates

    if not is_uniform(slit, source_type):
        return None
    state = slit.shutter_state or ""
    if not state:
        log.info("slitlet %s has no shutters: no bar shadow correction", slit.slitlet_id)
        return None
    shadow = join_shadow(shutter_pieces(barshadow_model.data1x1, barshadow_model.data1x3), state)
    wcs = slit.meta.wcs
    x, y = grid_from_bounding_box(wcs.bounding_box, step=(1, 1))
    # compiled: the values of calling the transform, without astropy's per-node overhead
    _, yslit, wavelength = compile_model(wcs.get_transform("detector", "slit_frame"))(x, y)
    yscale = slit.slit_yscale if slit.slit_yscale is not None else DEFAULT_YSCALE
    rows = shadow_rows(yslit / yscale, state, shadow.shape[0])
    cols = (wavelength - barshadow_model.crval1) / barshadow_model.cdelt1
    values = map_coordinates(shadow, [rows, cols], cval=np.nan, order=1, mode="nearest")
    return values.astype(np.float32)


def scale(slit, correction, inverse):
    """SCI and ERR divided by the correction, the variances by its square, in place
    (multiplied, with ``inverse``)."""
    op = np.multiply if inverse else np.divide
    square = correction**2
    op(slit.data, correction, out=slit.data)
    op(slit.err, correction, out=slit.err)
    for name in ("var_poisson", "var_rnoise", "var_flat"):
        var = getattr(slit, name)
        if var is not None and np.size(var) > 0:
            op(var, square, out=var)


def apply_barshadow(model, barshadow_model, inverse=False, source_type=None):
    """Correct every slitlet of a MOS MultiSlitModel in place (undo it with ``inverse``).

    Each slit records ``barshadow_corrected`` and its ``barshadow`` array (ones where no
    correction applies), which master background reads. Returns the model."""
    for slit in model.slits:
        correction = slit_shadow(slit, barshadow_model, source_type)
        slit.barshadow_corrected = correction is not None
        if correction is None:
            slit.barshadow = np.ones_like(slit.data)
            continue
        scale(slit, correction, inverse)
        slit.barshadow = correction
    return model
