"""The simulated micro-shutter array: four quadrants of 365 x 171 shutters around the
fixed-slit bar, as the ``msa`` reference file holds them.

Each quadrant of a CRDS ``msa`` file is a shutter table (one row per shutter: number,
centre XC/YC and open size SIZEX/SIZEY, in the quadrant's own frame) and a model from that
frame to the MSA plane (metres). jwst finds shutter (row, column) at table index
``row - 1 + (column - 1) * 365`` and reads the pitch-to-size ratios from the table
(``XC[1] - XC[0]`` over ``SIZEX[0]``, ``YC[365]`` over ``SIZEY[0]``), so the table starts
at shutter (1, 1) = (0, 0). Shutter rows run along the dispersion (MSA x), columns along
the slit (MSA y). Open area 0.20" x 0.46", pitch 0.27" x 0.53", as on NIRSpec.
"""

from __future__ import annotations

import numpy as np

from spec2_nirspec import instrument as ins

N_ROWS, N_COLUMNS = 365, 171  # shutters along x (dispersion) and y (slit length)
OPEN_ARCSEC = (0.20, 0.46)
PITCH_RATIO = (1.35, 1.15)  # pitch / open size, x and y (jwst's fallback values)
# half-widths of the bars between the quadrants (m): the fixed slits sit in the y bar
BAR_X, BAR_Y = 1.0e-3, 4.5e-3
ROTATION_DEG = {1: 0.012, 2: -0.008, 3: 0.005, 4: -0.015}  # small mounting errors

TABLE_DTYPE = [("NO", "<i4"), ("XC", "<f8"), ("YC", "<f8"), ("SIZEX", "<f8"), ("SIZEY", "<f8")]


def shutter_size_m() -> tuple[float, float]:
    """Open size (x, y) of a shutter on the MSA, metres."""
    return OPEN_ARCSEC[0] * ins.MSA_SCALE, OPEN_ARCSEC[1] * ins.MSA_SCALE


def pitch_m() -> tuple[float, float]:
    sx, sy = shutter_size_m()
    return sx * PITCH_RATIO[0], sy * PITCH_RATIO[1]


def quadrant_origin(quadrant: int) -> tuple[float, float]:
    """MSA position (m) of shutter (1, 1) of a quadrant: Q1/Q2 at negative x, Q1/Q3 at
    negative y; every quadrant's rows and columns grow with MSA x and y."""
    px, py = pitch_m()
    width, height = (N_ROWS - 1) * px, (N_COLUMNS - 1) * py
    x0 = -BAR_X - width if quadrant in (1, 2) else BAR_X
    y0 = -BAR_Y - height if quadrant in (1, 3) else BAR_Y
    return x0, y0


def shutter_table() -> np.ndarray:
    """The shutter table every quadrant shares (positions in the quadrant frame)."""
    px, py = pitch_m()
    sx, sy = shutter_size_m()
    rows, cols = np.meshgrid(np.arange(N_ROWS), np.arange(N_COLUMNS))  # row index fastest
    table = np.zeros(N_ROWS * N_COLUMNS, dtype=TABLE_DTYPE)
    table["NO"] = np.arange(1, table.size + 1)
    table["XC"] = rows.ravel() * px
    table["YC"] = cols.ravel() * py
    table["SIZEX"], table["SIZEY"] = sx, sy
    return table


def quadrant_model(quadrant: int):
    """Quadrant frame -> MSA plane (m): a small rotation, then the quadrant's origin."""
    from astropy.modeling import models

    x0, y0 = quadrant_origin(quadrant)
    return models.Rotation2D(ROTATION_DEG[quadrant], name=f"msa_Q{quadrant}_rot") | (
        models.Shift(x0, name=f"msa_Q{quadrant}_x") & models.Shift(y0, name=f"msa_Q{quadrant}_y")
    )


def shutter_centre(quadrant: int, row: int, column: int) -> tuple[float, float]:
    """MSA position (m) of a shutter's centre (row, column 1-based)."""
    px, py = pitch_m()
    return tuple(float(v) for v in quadrant_model(quadrant)((row - 1) * px, (column - 1) * py))
