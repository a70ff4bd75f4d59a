"""S_REGION: the footprint keyword, a polygon of (RA, Dec) corners in degrees."""

from __future__ import annotations

import numpy as np


def format_s_region(footprint):
    """S_REGION string of a 4 x 2 (ra, dec) footprint in deg (None if any is NaN)."""
    values = np.asarray(footprint, dtype=float).ravel()
    if not np.all(np.isfinite(values)):
        return None
    return "POLYGON ICRS  " + " ".join(f"{v:.9f}" for v in values)


def parse_s_region(s_region):
    """The first polygon of an S_REGION string as 4 x 2 (ra, dec), or None."""
    if not s_region:
        return None
    tokens = s_region.split()
    try:
        values = [float(t) for t in tokens[2:10]]
    except ValueError:
        return None
    return np.array(values).reshape(4, 2) if len(values) == 8 else None
