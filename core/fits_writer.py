"""Writing products: stdatamodels' FITS layout, without its quadratic HDU lookups.

stdatamodels builds a product's HDU list by asking, for every array of every slit,
whether an HDU of that (EXTNAME, EXTVER) exists yet; astropy answers by reading the
name of every HDU already in the list. A WFSS ``_cal`` with 300 cut-outs has about 2000
HDUs, so writing it reads some ten million header cards (two minutes, jwst included).
:class:`IndexedHDUList` answers the same question from an index of the HDUs it holds.
The file written is the one ``model.save`` writes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from astropy.io import fits


def _name(hdu):
    name = hdu.name
    return name.strip().upper() if isinstance(name, str) else name


class IndexedHDUList(fits.HDUList):
    """An HDUList whose (EXTNAME, EXTVER) lookups use an index of its HDUs.

    The index follows appends incrementally; any other change of the list (insert,
    removal, replacement) rebuilds it on the next lookup. HDUs are indexed as they are
    when they join the list, which is how stdatamodels builds one (name and version set
    before the HDU is appended)."""

    def _index_up_to_date(self):
        seen = getattr(self, "_indexed", None)
        if seen is None or len(seen) > len(self) or any(
                seen[i] is not self[i] for i in (0, len(seen) - 1) if 0 <= i < len(seen)):
            self._indexed, self._positions = [], {}
            seen = self._indexed
        for idx in range(len(seen), len(self)):
            hdu = super().__getitem__(idx)
            seen.append(hdu)
            self._positions.setdefault((_name(hdu), hdu.ver), idx)
        return self._positions

    def index_of(self, key):
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
            name, ver = key[0].strip().upper(), key[1]
            positions = self._index_up_to_date()
            if (name, ver) in positions:
                return positions[(name, ver)]
            if name == "PRIMARY" and len(self) and self[0].ver == ver:
                return 0
            raise KeyError(f"Extension {key!r} not found.")
        return super().index_of(key)

    def _invalidate(self):
        self._indexed = None

    def insert(self, index, hdu):
        self._invalidate()
        super().insert(index, hdu)

    def __setitem__(self, key, hdu):
        self._invalidate()
        super().__setitem__(key, hdu)

    def __delitem__(self, key):
        self._invalidate()
        super().__delitem__(key)

    def remove(self, hdu):
        self._invalidate()
        super().remove(hdu)

    def pop(self, index=-1):
        self._invalidate()
        return super().pop(index)


def save_fits(model, path) -> Path:
    """Write ``model`` to the FITS file ``path`` as ``model.save(path)`` does."""
    from stdatamodels import fits_support

    path = Path(path)
    model.on_save(str(path))
    hdulist = IndexedHDUList([fits.PrimaryHDU()])
    hdulist = fits_support.to_fits(model._instance, model._schema, hdulist=hdulist)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Card is too long")
        if getattr(model, "_no_asdf_extension", False) and "ASDF" in hdulist:
            del hdulist["ASDF"]
        hdulist.writeto(path, overwrite=True)
    return path
