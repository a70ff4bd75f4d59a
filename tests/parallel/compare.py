"""Byte-level comparison of two folders of products, for "identical whatever the number
of workers". Differences that say when and in which process a file was written are
left out: the DATE keyword, and in the ASDF extension the ``history`` block (the order in
which the process happened to load ASDF extensions), ``_fits_hash`` (a hash that
covers DATE) and the ``date:`` entries of the tree (meta.date, the creation times)."""

import re
from pathlib import Path

from astropy.io import fits

_WHEN = {"DATE", "CHECKSUM", "DATASUM"}
_DATE = re.compile(r"(\bdate: )'\d{4}-\d\d-\d\dT[\d:.]+'")


def asdf_text_without_history(raw: bytes) -> list[str]:
    kept, skipping = [], False
    for line in raw.decode("utf-8", errors="replace").splitlines():
        top_level = line[:1] not in (" ", "-", "")
        if top_level:
            skipping = line.startswith(("history:", "_fits_hash:"))
        if not skipping:
            kept.append(_DATE.sub(r"\1<date>", line))
    return kept


def product_differences(a: Path, b: Path) -> list[str]:
    """Every difference between the products of folders ``a`` and ``b`` (empty: identical)."""
    names_a = sorted(p.name for p in Path(a).glob("*.fits"))
    names_b = sorted(p.name for p in Path(b).glob("*.fits"))
    if names_a != names_b:
        return [f"product sets differ: {sorted(set(names_a) ^ set(names_b))}"]
    diffs = []
    for name in names_a:
        with fits.open(Path(a) / name) as x, fits.open(Path(b) / name) as y:
            if [h.name for h in x] != [h.name for h in y]:
                diffs.append(f"{name}: HDUs differ")
                continue
            for hx, hy in zip(x, y, strict=True):
                cards_x = [(k, v) for k, v in hx.header.items() if k not in _WHEN]
                cards_y = [(k, v) for k, v in hy.header.items() if k not in _WHEN]
                if cards_x != cards_y:
                    diffs.append(f"{name}[{hx.name}]: header")
                if hx.name == "ASDF":
                    if asdf_text_without_history(hx.data.tobytes()) != asdf_text_without_history(hy.data.tobytes()):
                        diffs.append(f"{name}[ASDF]: tree")
                elif (hx.data is None) != (hy.data is None) or (
                    hx.data is not None and hx.data.tobytes() != hy.data.tobytes()
                ):
                    diffs.append(f"{name}[{hx.name}]: data")
    return diffs
