"""Writing products: stdatamodels' FITS layout, without its quadratic HDU lookups and
without swapping every array's bytes twice.

stdatamodels builds a product's HDU list by asking, for every array of every slit,
whether an HDU of that (EXTNAME, EXTVER) exists yet; astropy answers by reading the
name of every HDU already in the list. A WFSS ``_cal`` with 300 cut-outs has about 2000
HDUs, so writing it reads some ten million header cards (two minutes, jwst included).
:class:`IndexedHDUList` answers the same question from an index of the HDUs it holds.

FITS is big-endian and calibrated arrays are in the machine's order (little-endian):
astropy swaps a writable image's bytes in place, writes it, and swaps them back (two
passes over every array), copies a whole unsigned array (DQ) to shift it to signed, and
reorders a table's bytes through an index. :func:`write_in_pieces` gives such HDUs a
writer that converts a few megabytes at a time to big-endian and writes them: one pass,
no full-size copy, the model's arrays untouched. The bytes written are the same.

The file written is the one ``model.save`` writes.
"""

from __future__ import annotations

import types
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

# Bytes converted and written at a time: large enough that each write is efficient,
# small enough to stay in cache and add no memory worth counting.
PIECE_BYTES = 1 << 22


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


def _row_pieces(array):
    """``array`` in consecutive pieces along its first axis of about PIECE_BYTES each."""
    row_bytes = max(array[0].nbytes if array.ndim > 1 else array.itemsize, 1)
    step = max(PIECE_BYTES // row_bytes, 1)
    for start in range(0, len(array), step):
        yield array[start:start + step]


def _write_image(hdu, fileobj):
    """An image HDU's data, big-endian, a piece at a time (astropy's layout: unsigned
    integers shifted by BZERO into the signed type of the same size)."""
    data = hdu.data
    zero = hdu._pseudo_zero_shift
    big = np.dtype(f">i{data.dtype.itemsize}") if zero else data.dtype.newbyteorder(">")
    for piece in _row_pieces(data):
        fileobj.writearray(np.asarray(piece - zero if zero else piece).astype(big, order="C"))
    return data.size * data.itemsize


def _write_table(hdu, fileobj):
    """A binary table's rows (no variable-length columns), big-endian, a piece at a time."""
    data = hdu.data
    raw = data.view(np.ndarray)
    big = raw.dtype.newbyteorder(">")
    for piece in _row_pieces(raw):
        fileobj.writearray(piece.astype(big, order="C"))
    return data.size * data._raw_itemsize


def _pseudo_zero(dtype):
    """The BZERO astropy writes an unsigned integer type with (0 for any other type)."""
    if dtype.kind == "u" and dtype.itemsize >= 2:
        return np.array(1 << (8 * dtype.itemsize - 1), dtype=dtype)[()]
    return 0


def write_in_pieces(hdulist):
    """Give every HDU whose data astropy would byte-swap (or shift) as a whole a writer
    that converts it a piece at a time (see the module's docstring). HDUs whose data are
    big-endian already, scaled, compressed, or tables with a heap keep astropy's writer."""
    for hdu in hdulist:
        if not hdu._data_loaded or hdu.data is None or hdu.data.size == 0:
            continue
        data = hdu.data
        if type(hdu) in (fits.ImageHDU, fits.PrimaryHDU):
            if type(data) is not np.ndarray or data.dtype.kind not in "uif" or hdu._data_needs_rescale:
                continue
            zero = _pseudo_zero(data.dtype)
            if zero == 0 and data.dtype.newbyteorder(">") == data.dtype:
                continue  # big-endian (or one byte) already: astropy writes it as it is
            hdu._pseudo_zero_shift = zero
            hdu._writedata_internal = types.MethodType(_write_image, hdu)
        elif type(hdu) is fits.BinTableHDU:
            if (data.dtype.hasobject or data._gap or data._heapsize
                    or any(data.dtype[i].base.kind == "U" for i in range(len(data.dtype)))
                    or any(getattr(c.format, "p_format", None) for c in hdu.columns)):
                continue
            hdu._writedata_internal = types.MethodType(_write_table, hdu)
    return hdulist


def save_fits(model, path) -> Path:
    """Write ``model`` to the FITS file ``path`` as ``model.save(path)`` does."""
    from stdatamodels import fits_support

    from spec2.asdf_validation import memoised_validation

    path = Path(path)
    model.on_save(str(path))
    hdulist = IndexedHDUList([fits.PrimaryHDU()])
    with memoised_validation():
        hdulist = fits_support.to_fits(model._instance, model._schema, hdulist=hdulist)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Card is too long")
        if getattr(model, "_no_asdf_extension", False) and "ASDF" in hdulist:
            del hdulist["ASDF"]
        write_in_pieces(hdulist).writeto(path, overwrite=True)
    return path
