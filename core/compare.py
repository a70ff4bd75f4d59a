"""``spec2 compare``: two stage-2 products of the same kind compared array by array and
column by column, as the parity tests compare spec2 with jwst, with a structured result
(:class:`Comparison`) and its text and JSON renderings.

The rules: the same datamodel type or nothing can be compared; slits matched by name
(else source id), spectra by name, source id and order, WFSS table rows by SOURCE_ID,
never by position when a key exists; floating-point values agree when
``|a - b| <= atol + rtol * |b|`` (B is the reference) with NaN agreeing only with NaN;
other integers exactly; DQ bit by bit (the differing bits are named); each WCS is
evaluated on a grid of pixels over its data and the world coordinates compared with the
same tolerance. Metadata keywords other than EXP_TYPE are not compared.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from spec2.product_kind import ProductError, kind_of, open_product

GRID_POINTS = 24  # per axis of the pixel grid the WCSs are evaluated on
SKIP = {"meta", "asdf_library", "history", "_fits_hash"}


@dataclass
class Difference:
    """One array, table column or WCS that differs: where (e.g. ``slit S200A1 data``),
    what (``values``, ``NaN in one only``, ``DQ flags 2, 4`` (the flag values that differ), ``shape``, ``missing in A``), how many
    elements of how many, the largest relative difference and the index it is at."""

    where: str
    what: str
    count: int = 0
    total: int = 0
    max_rel: float | None = None
    at: str = ""


@dataclass
class Comparison:
    """The outcome of comparing product ``a`` with reference ``b``: ``problem`` says why
    they cannot be compared (then nothing else is filled); ``checked`` counts the arrays,
    columns and WCSs compared; ``differences`` lists those outside tolerance."""

    a: str
    b: str
    rtol: float
    atol: float
    kind: str | None = None
    model_type: str | None = None
    problem: str | None = None
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 agree within tolerance, 1 differ, 2 cannot be compared."""
        return 2 if self.problem else (1 if self.differences else 0)

    @property
    def verdict(self) -> str:
        return ("AGREE", "DIFFER", "CANNOT COMPARE")[self.exit_code]

    def summary(self) -> str:
        """The one-line verdict."""
        tol = f"rtol {self.rtol:g}, atol {self.atol:g}"
        if self.problem:
            return f"CANNOT COMPARE: {self.problem}"
        if self.differences:
            names = sorted({d.where for d in self.differences})
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            return f"DIFFER: {len(self.differences)} of {self.checked} items beyond {tol}: {shown}"
        return f"AGREE: {self.checked} arrays, columns and WCSs of the {self.kind} product within {tol}"

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(verdict=self.verdict, exit_code=self.exit_code, summary=self.summary())
        return out


# -- element-wise rules -------------------------------------------------------------------


def _index(flat_index, shape) -> str:
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape))) if shape else "()"


def compare_values(where, a, b, rtol, atol, dq=False) -> Difference | None:
    """The Difference of two arrays (None when they agree): shape first, then DQ bits,
    exact integers, or floating values within ``atol + rtol * |b|`` with NaN only
    matching NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return Difference(where, f"shape {a.shape} vs {b.shape}")
    total = int(b.size)
    if dq or (a.dtype.kind in "ui" and b.dtype.kind in "ui" and where.lower().endswith("dq")):
        xor = np.bitwise_xor(a.astype(np.uint64), b.astype(np.uint64))
        if not xor.any():
            return None
        union = int(np.bitwise_or.reduce(xor.ravel()))
        bits = [str(1 << k) for k in range(64) if union >> k & 1]
        return Difference(where, f"DQ flags {', '.join(bits)}", int(np.count_nonzero(xor)), total,
                          at=_index(int(np.flatnonzero(xor)[0]), a.shape))
    if a.dtype.kind not in "fc" and b.dtype.kind not in "fc":
        if a.dtype.kind in "SUO" or b.dtype.kind in "SUO":
            bad = a.astype(str) != b.astype(str)
        else:
            bad = a != b
        if not bad.any():
            return None
        return Difference(where, "values", int(bad.sum()), total, at=_index(int(np.flatnonzero(bad)[0]), a.shape))
    x, y = a.astype(np.complex128 if "c" in a.dtype.kind + b.dtype.kind else np.float64), b.astype(np.float64)
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(x - y)
        close = (diff <= atol + rtol * np.abs(y)) | (x == y)  # x == y: equal infinities
    nan_bad = nan_x != nan_y
    bad = ~close & ~nan_x & ~nan_y
    if not bad.any() and not nan_bad.any():
        return None
    if not bad.any():
        return Difference(where, "NaN in one only", int(nan_bad.sum()), total,
                          at=_index(int(np.flatnonzero(nan_bad)[0]), a.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(bad, diff / np.abs(y), 0.0)
    worst = int(np.argmax(np.where(bad, np.nan_to_num(rel, nan=np.inf), -1.0)))
    what = "values" + (f" (+{int(nan_bad.sum())} NaN in one only)" if nan_bad.any() else "")
    return Difference(where, what, int(bad.sum() + nan_bad.sum()), total, float(rel.flat[worst]),
                      _index(worst, a.shape))


# -- walking the models -------------------------------------------------------------------


def arrays_of(node) -> dict:
    """The arrays (tables included) directly on a datamodel node, by name."""
    return {k: v for k, v in node.instance.items() if k not in SKIP and isinstance(v, np.ndarray)}


def item_key(item, position):
    """What matches a slit or spectrum across products: its name, source id and order
    where set (``position`` only when it has none of them)."""
    key = tuple((k, item.instance.get(k)) for k in ("name", "source_id", "spectral_order")
                if item.instance.get(k) is not None)
    return key or (("position", position),)


def label_of(prefix, key) -> str:
    parts = [f"{v}" if k == "name" else f"{k.replace('_', ' ')} {v}" for k, v in key]
    return f"{prefix} {' '.join(parts)}"


def match_items(a_items, b_items):
    """{key: (a item or None, b item or None)} matched by :func:`item_key`; when keys are
    not unique in either product, by position."""
    ka = [item_key(x, i) for i, x in enumerate(a_items)]
    kb = [item_key(x, i) for i, x in enumerate(b_items)]
    if len(set(ka)) != len(ka) or len(set(kb)) != len(kb):
        ka = [(("position", i),) for i in range(len(a_items))]
        kb = [(("position", i),) for i in range(len(b_items))]
    pairs = {k: [x, None] for k, x in zip(ka, a_items)}
    for k, y in zip(kb, b_items):
        pairs.setdefault(k, [None, None])[1] = y
    return pairs


def compare_table(where, ta, tb, rtol, atol, result):
    """Column by column; rows matched by SOURCE_ID when the table has one (WFSS)."""
    names_a, names_b = set(ta.dtype.names), set(tb.dtype.names)
    for name in sorted(names_a ^ names_b):
        result.differences.append(Difference(f"{where} {name}", "missing in A" if name in names_b else "missing in B"))
    if "SOURCE_ID" in names_a & names_b:
        ids_a, ids_b = list(np.asarray(ta["SOURCE_ID"])), list(np.asarray(tb["SOURCE_ID"]))
        if len(set(ids_a)) == len(ids_a) and len(set(ids_b)) == len(ids_b):
            for sid in sorted(set(ids_a) ^ set(ids_b)):
                result.differences.append(Difference(f"{where} source {sid}", "missing in A" if sid in ids_b else "missing in B"))
            common = sorted(set(ids_a) & set(ids_b))
            ta = ta[[ids_a.index(s) for s in common]]
            tb = tb[[ids_b.index(s) for s in common]]
    for name in [n for n in tb.dtype.names if n in names_a]:
        result.checked += 1
        diff = compare_values(f"{where} {name}", ta[name], tb[name], rtol, atol, dq=name == "DQ")
        if diff is not None:
            result.differences.append(diff)


def _has_wcs(node):
    try:
        return node.meta.hasattr("wcs") and node.meta.wcs is not None
    except AttributeError:
        return False


def pixel_grid(shape, n_inputs, order=None):
    """Pixel coordinates (x, y[, z]) on a grid of at most GRID_POINTS per axis over data
    of ``shape``; a 3-input WCS on 2-D data gets the spectral ``order`` (default 1) as
    its third input, a 1-input WCS (a spectrum) the pixels along the last axis."""
    axes = [np.unique(np.linspace(0, n - 1, min(n, GRID_POINTS)).round()) for n in shape[::-1]]
    if n_inputs == 1:
        return (axes[0],)
    if n_inputs == 2:
        return tuple(np.meshgrid(axes[0], axes[1], indexing="xy"))
    if n_inputs == 3 and len(shape) == 3:
        return tuple(np.meshgrid(axes[0], axes[1], axes[2], indexing="ij"))
    xx, yy = np.meshgrid(axes[0], axes[1], indexing="xy")
    return xx, yy, np.full(xx.shape, float(order or 1))


def compare_wcs(where, a, b, shape, rtol, atol, result):
    """Both nodes' WCSs evaluated on the same pixels; world coordinates within tolerance."""
    has_a, has_b = _has_wcs(a), _has_wcs(b)
    if not (has_a or has_b):
        return
    result.checked += 1
    if has_a != has_b:
        result.differences.append(Difference(f"{where} wcs", "missing in A" if has_b else "missing in B"))
        return
    wa, wb = a.meta.wcs, b.meta.wcs
    if wa.forward_transform.n_inputs != wb.forward_transform.n_inputs or len(shape) == 0:
        result.differences.append(Difference(f"{where} wcs", "inputs differ"))
        return
    order = getattr(getattr(b.meta, "wcsinfo", None), "spectral_order", None) if b.meta.hasattr("wcsinfo") else None
    pixels = pixel_grid(shape, wb.forward_transform.n_inputs, order)
    try:
        out_a, out_b = wa(*pixels), wb(*pixels)
    except Exception as exc:  # noqa: BLE001 -- a WCS that cannot be evaluated differs; no crash
        result.differences.append(Difference(f"{where} wcs", f"cannot be evaluated ({type(exc).__name__})"))
        return
    out_a = out_a if isinstance(out_a, tuple) else (out_a,)
    out_b = out_b if isinstance(out_b, tuple) else (out_b,)
    if len(out_a) != len(out_b):
        result.differences.append(Difference(f"{where} wcs", "outputs differ"))
        return
    for k, (p, q) in enumerate(zip(out_a, out_b)):
        diff = compare_values(f"{where} wcs output {k}", p, q, rtol, atol)
        if diff is not None:
            result.differences.append(diff)


def data_shape(node):
    data = node.instance.get("data")
    if isinstance(data, np.ndarray):
        return data.shape
    table = node.instance.get("spec_table")
    if isinstance(table, np.ndarray) and "WAVELENGTH" in (table.dtype.names or ()):
        return np.asarray(table["WAVELENGTH"]).shape[-1:]
    return ()


def compare_node(where, a, b, rtol, atol, result):
    """Every array/table of two nodes, their WCSs, and their slits or spectra (matched)."""
    arrays_a, arrays_b = arrays_of(a), arrays_of(b)
    for name in sorted(set(arrays_a) | set(arrays_b)):
        label = where if name == "spec_table" else f"{where} {name}".strip()
        if name not in arrays_a or name not in arrays_b:
            result.checked += 1
            result.differences.append(Difference(label, "missing in A" if name in arrays_b else "missing in B"))
            continue
        x, y = arrays_a[name], arrays_b[name]
        if x.dtype.names and y.dtype.names:
            compare_table(label, x, y, rtol, atol, result)
        else:
            result.checked += 1
            diff = compare_values(label, x, y, rtol, atol, dq=name == "dq")
            if diff is not None:
                result.differences.append(diff)
    compare_wcs(where or "product", a, b, data_shape(b) or data_shape(a), rtol, atol, result)
    for listname, prefix in (("slits", "slit"), ("spec", "spec")):
        items_a, items_b = a.instance.get(listname), b.instance.get(listname)
        if not items_a and not items_b:
            continue
        seq_a, seq_b = getattr(a, listname), getattr(b, listname)
        for key, (x, y) in match_items(list(seq_a), list(seq_b)).items():
            label = label_of(f"{where} {prefix}".strip(), key)
            if x is None or y is None:
                result.checked += 1
                result.differences.append(Difference(label, "missing in A" if x is None else "missing in B"))
            else:
                compare_node(label, x, y, rtol, atol, result)


def compare_models(a, b, rtol=1e-5, atol=0.0, names=("A", "B")) -> Comparison:
    """Compare open product ``a`` with reference ``b``. Different datamodel types (or a
    model that is not a stage-2 product) cannot be compared: ``problem`` says why."""
    result = Comparison(names[0], names[1], rtol, atol)
    try:
        kinds = kind_of(a), kind_of(b)
    except ProductError as exc:
        result.problem = str(exc)
        return result
    if type(a) is not type(b):
        result.problem = f"different kinds: {type(a).__name__} ({kinds[0]}) vs {type(b).__name__} ({kinds[1]})"
        return result
    result.kind, result.model_type = kinds[0], type(b).__name__
    exp_a, exp_b = a.meta.exposure.type, b.meta.exposure.type
    result.checked += 1
    if exp_a != exp_b:
        result.differences.append(Difference("EXP_TYPE", f"{exp_a} vs {exp_b}"))
    compare_node("", a, b, rtol, atol, result)
    return result


def compare_files(path_a, path_b, rtol=1e-5, atol=0.0) -> Comparison:
    """:func:`compare_models` of two files; unreadable files cannot be compared."""
    names = (str(path_a), str(path_b))
    try:
        a = open_product(path_a)
    except ProductError as exc:
        return Comparison(*names, rtol, atol, problem=str(exc))
    try:
        b = open_product(path_b)
    except ProductError as exc:
        a.close()
        return Comparison(*names, rtol, atol, problem=str(exc))
    with a, b:
        try:
            return compare_models(a, b, rtol, atol, names)
        except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:  # a malformed product
            return Comparison(*names, rtol, atol, problem=f"a malformed product ({type(exc).__name__}: {exc})")


# -- rendering ----------------------------------------------------------------------------


def render_text(result: Comparison) -> str:
    """The table of what differs (largest relative difference, where, how many elements)
    followed by the one-line verdict."""
    lines = [f"A: {result.a}", f"B: {result.b}  (the reference)"]
    if result.kind:
        lines.append(f"kind: {result.kind} ({result.model_type})")
    if result.differences:
        rows = [(d.where, d.what, f"{d.count}/{d.total}" if d.total else "-",
                 f"{d.max_rel:.3g}" if d.max_rel is not None else "-", d.at or "-") for d in result.differences]
        head = ("where", "what", "elements", "max rel diff", "at")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines.append("")
        for row in [head, *rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        lines.append("")
    lines.append(result.summary())
    return "\n".join(lines)


def render_json(result: Comparison) -> str:
    return json.dumps(result.to_dict(), indent=2, default=float)
