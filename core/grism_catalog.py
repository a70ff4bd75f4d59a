"""The source catalog of a wide-field slitless exposure, read into numpy arrays.

WFSS exposures name their catalog (jwst's ``source_catalog`` step output, ECSV) in the
association (member ``sourcecat``) or in SCATFILE. The columns used are those jwst's
WFSS steps read: ``label``, ``xcentroid``/``ycentroid`` (direct-image pixels),
``sky_centroid`` and the four corners of the source's minimal bounding box on the sky
(``sky_bbox_ll``, ``sky_bbox_lr``, ``sky_bbox_ul``, ``sky_bbox_ur``), ``isophotal_abmag``
(and its error) and ``is_extended``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spec2.errors import InputError

REQUIRED = ("label", "xcentroid", "ycentroid", "sky_centroid", "isophotal_abmag", "isophotal_abmag_err",
            "sky_bbox_ll", "sky_bbox_lr", "sky_bbox_ul", "sky_bbox_ur", "is_extended")
CORNERS = ("sky_bbox_ll", "sky_bbox_lr", "sky_bbox_ul", "sky_bbox_ur")


@dataclass
class SourceCatalog:
    """One array per column, one element per source (corners: (n, 4), in CORNERS order)."""

    label: np.ndarray
    xcentroid: np.ndarray
    ycentroid: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    corner_ra: np.ndarray
    corner_dec: np.ndarray
    abmag: np.ndarray  # NaN where the catalog has no magnitude
    abmag_err: np.ndarray
    is_extended: np.ndarray

    def __len__(self):
        return self.label.size

    def select(self, keep):
        """A catalog of the sources where ``keep`` (a mask or index array) says."""
        return SourceCatalog(**{k: v[keep] for k, v in vars(self).items()})


def _values(column, unit=None):
    """Plain float array of a (masked, Quantity) column; masked values become NaN."""
    data = column.to_value(unit) if unit is not None and hasattr(column, "to_value") else getattr(column, "value", column)
    data = np.ma.filled(np.ma.asarray(data, dtype=float), np.nan)
    return np.asarray(data, dtype=float)


def read_catalog(path) -> SourceCatalog:
    """Read an ECSV source catalog; raise InputError naming what is wrong."""
    from astropy import units as u
    from astropy.table import QTable

    path = Path(path)
    if not path.is_file():
        raise InputError(f"source catalog {path} does not exist")
    try:
        table = QTable.read(path, format="ascii.ecsv")
    except Exception as exc:  # noqa: BLE001  (astropy raises many kinds for a bad file)
        raise InputError(f"source catalog {path} cannot be read as ECSV ({exc})") from None
    missing = [c for c in REQUIRED if c not in table.colnames]
    if missing:
        raise InputError(f"source catalog {path} lacks the column(s) {', '.join(missing)}")

    def sky(name):
        coord = table[name]
        if not hasattr(coord, "icrs"):
            raise InputError(f"source catalog {path}: column {name} is not a sky coordinate")
        icrs = coord.icrs
        return _values(icrs.ra, u.deg), _values(icrs.dec, u.deg)

    ra, dec = sky("sky_centroid")
    corners = [sky(c) for c in CORNERS]
    return SourceCatalog(
        label=np.asarray(table["label"], dtype=int),
        xcentroid=_values(table["xcentroid"]),
        ycentroid=_values(table["ycentroid"]),
        ra=ra,
        dec=dec,
        corner_ra=np.stack([c[0] for c in corners], axis=1),
        corner_dec=np.stack([c[1] for c in corners], axis=1),
        abmag=_values(table["isophotal_abmag"]),
        abmag_err=_values(table["isophotal_abmag_err"]),
        is_extended=np.asarray(np.ma.filled(np.ma.asarray(table["is_extended"]), False), dtype=bool),
    )
