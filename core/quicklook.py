"""Quick-look pictures of stage-2 products (``spec2 plot``): one matplotlib Figure per
product, drawn by pure functions of the open datamodel, and a thin writer to PNG.

What each kind shows: ``x1d`` and WFSS ``x1d`` flux and error against wavelength, one
small panel per spectrum, DQ-flagged points marked; ``x1dints`` the white-light curve and
the spectra as an image (integration against wavelength); ``s2d`` the rectified 2-D
spectrum on a wavelength axis; ``s3d`` a white-light image and the spectrum of its
brightest spaxel; ``_cal``/``_calints`` the detector image with each slit (the WCS
bounding box of each cut-out, placed on the detector) or the exposure's WCS bounding box
outlined. Scales are percentiles of the finite values, so one hot pixel
does not flatten the rest. The title is the file name and EXP_TYPE.

matplotlib is optional (the "plot" extra): :func:`require_matplotlib` says how to get it.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so nothing global is
touched and no window opens.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from spec2.product_kind import ProductError, kind_of, open_product

INSTALL_HINT = "spec2 plot needs matplotlib: pip install 'spec2[plot]' (or pip install matplotlib)"
MAX_PANELS = 30  # small multiples beyond this are unreadable; the title says how many are shown
DEFAULT_UNITS = {"WAVELENGTH": "µm", "FLUX": "Jy", "FLUX_ERROR": "Jy", "SURF_BRIGHT": "MJy/sr"}


class MissingMatplotlib(ProductError):
    """matplotlib is not installed; the message says how to install it."""


def require_matplotlib():
    """Import matplotlib's Figure class, or MissingMatplotlib with the install hint."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingMatplotlib(INSTALL_HINT) from None
    return Figure


# -- pure helpers -------------------------------------------------------------------------


def robust_limits(*arrays, low=1.0, high=99.0, pad=0.12, include=()):
    """(lo, hi) covering the ``low``-``high`` percentiles of every finite value and every
    value of ``include`` (e.g. a noise-free truth), padded: one wild element of the data
    does not flatten the rest."""
    values = np.concatenate([np.ravel(np.asarray(a, float)) for a in arrays]) if arrays else np.array([])
    values = values[np.isfinite(values)]
    extra = np.asarray(include, float).ravel()
    extra = extra[np.isfinite(extra)]
    if values.size == 0 and extra.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(values, [low, high]) if values.size else (extra.min(), extra.max())
    if extra.size:
        lo, hi = min(lo, extra.min()), max(hi, extra.max())
    span = hi - lo if hi > lo else max(abs(hi), 1e-12)
    return float(lo - pad * span), float(hi + pad * span)


def spectrum_limits(flux, reach=3.0, pad=0.06):
    """y range of a spectrum: everything within ``reach`` times the 1-99 percentile span
    of that span, so emission and absorption lines stay in view while a lone wild
    point (a hot pixel, a bad edge) does not flatten the rest."""
    lo, hi = robust_limits(flux, pad=0.0)
    span = hi - lo if hi > lo else max(abs(hi), 1e-12)
    values = np.asarray(flux, float)
    values = values[np.isfinite(values) & (values >= lo - reach * span) & (values <= hi + reach * span)]
    return robust_limits(values, low=0.0, high=100.0, pad=pad) if values.size else (lo, hi)


def image_limits(image, low=1.0, high=99.0):
    """Display range of an image: percentiles of its finite pixels (0, 1 if none)."""
    lo, hi = robust_limits(image, low=low, high=high, pad=0.0)
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def quiet_nan(func, *args, **kwargs):
    """``func`` (a NaN-aware numpy reduction) without the all-NaN-slice warning: an
    all-NaN column is an ordinary thing in a product, not news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def column_unit(table, name) -> str:
    """The unit of a spectrum table's column as written (TUNITn), else jwst's."""
    try:
        unit = table.columns[name].unit
    except (AttributeError, KeyError, TypeError):
        unit = None
    return str(unit) if unit else DEFAULT_UNITS.get(name, "")


def exp_type(model) -> str:
    return getattr(model.meta.exposure, "type", None) or "EXP_TYPE unknown"


def title_of(model, name) -> str:
    return f"{name}   {exp_type(model)}"


def white_light(flux):
    """Per integration, the sum over the wavelength columns finite in every integration
    (a column lost in one integration would otherwise look like a dip)."""
    flux = np.asarray(flux, float)
    good = np.all(np.isfinite(flux), axis=0)
    return flux[:, good].sum(axis=1) if good.any() else np.full(flux.shape[0], np.nan)


def spectra_of(model, kind):
    """[(label, wavelength, flux, error, dq, table)] of an ``x1d`` or WFSS ``x1d``: one
    entry per spectrum (per source and order for WFSS, trimmed to N_ALONGDISP)."""
    out = []
    if kind == "wfss_x1d":
        for spec in model.spec:
            table = spec.spec_table
            for row in table:
                n = int(row["N_ALONGDISP"]) if "N_ALONGDISP" in table.dtype.names else len(row["FLUX"])
                cols = [np.asarray(row[c][:n]) for c in ("WAVELENGTH", "FLUX", "FLUX_ERROR", "DQ")]
                out.append((f"source {int(row['SOURCE_ID'])} order {spec.spectral_order}", *cols, table))
        return out
    for i, spec in enumerate(model.spec):
        table = spec.spec_table
        label = spec.name or getattr(spec, "source_id", None) or f"spectrum {i + 1}"
        order = getattr(spec, "spectral_order", None)
        label = f"{label} order {order}" if order is not None and len(model.spec) > 1 else str(label)
        out.append((label, *(np.asarray(table[c]) for c in ("WAVELENGTH", "FLUX", "FLUX_ERROR", "DQ")), table))
    return out


def grid_shape(n, columns=3):
    """(rows, columns) of a small-multiples page of ``n`` panels."""
    cols = min(n, columns)
    return -(-n // cols), cols


def along_wavelength(data, wavelength, dispersion_direction):
    """(data, wavelength) turned so wavelength runs along the columns (jwst's
    dispersion_direction 2 is vertical)."""
    if dispersion_direction == 2:
        return np.asarray(data).T, np.asarray(wavelength).T
    return np.asarray(data), np.asarray(wavelength)


def dispersion_direction(slit, model):
    """jwst's DISPAXIS of a slit (1 horizontal, 2 vertical): the slit's own wcsinfo, else
    the product's; None when neither says."""
    for node in (slit, model):
        try:
            value = node.meta.wcsinfo.dispersion_direction
        except AttributeError:  # a MultiSlitModel has no top-level wcsinfo
            continue
        if value is not None:
            return value
    return None


def column_wavelengths(wavelength):
    """Wavelength of each column of a rectified spectrum: the median over rows, with
    columns lacking one filled by linear interpolation; None if fewer than two columns
    have a wavelength."""
    wl = quiet_nan(np.nanmedian, np.asarray(wavelength, float), axis=0)
    good = np.isfinite(wl)
    if good.sum() < 2:
        return None
    idx = np.arange(wl.size)
    slope = np.polyfit(idx[good], wl[good], 1)
    return np.where(good, wl, np.polyval(slope, idx))


def wcs_rectangle(wcs):
    """((x0, x1), (y0, y1)) of a gwcs's bounding box in pixels, or None (no box, or a
    box per spectral order)."""
    try:
        box = wcs.bounding_box
        box = box.bounding_box(order="F") if hasattr(box, "bounding_box") else box
        (x0, x1), (y0, y1) = box[0], box[1]
        return (float(x0), float(x1)), (float(y0), float(y1))
    except Exception:  # noqa: BLE001 -- gwcs raises NotImplementedError, TypeError... for "no single box"
        return None


def cube_wavelengths(model):
    """Wavelength of each plane of an IFU cube: from its WCS at the cube's centre, else
    the linear wcsinfo (CRVAL3/CDELT3/CRPIX3); None if neither gives one."""
    nz = model.data.shape[0]
    wl = _wcs_wavelengths(model)
    if wl is not None:
        return wl
    info = model.meta.wcsinfo
    if info.crval3 is not None and info.cdelt3 is not None:
        return info.crval3 + (np.arange(nz) + 1 - (info.crpix3 or 1.0)) * info.cdelt3
    return None


def _wcs_wavelengths(model):
    nz, ny, nx = model.data.shape
    try:
        wl = model.meta.wcs(np.full(nz, nx // 2, float), np.full(nz, ny // 2, float), np.arange(nz, dtype=float))
        wl = np.asarray(wl[-1], float)
    except Exception:  # noqa: BLE001 -- no usable WCS (none, or not 3-D): the wcsinfo says
        return None
    return wl if np.isfinite(wl).any() else None


# -- drawing ------------------------------------------------------------------------------


def _spectrum_panel(ax, label, wl, flux, err, dq, table):
    wl, flux, err = (np.asarray(a, float) for a in (wl, flux, err))
    ax.fill_between(wl, flux - err, flux + err, color="C0", alpha=0.25, lw=0, label="± error")
    ax.plot(wl, flux, "C0-", lw=0.8, label="flux")
    flagged = (np.asarray(dq) != 0) & np.isfinite(flux)
    if flagged.any():
        ax.plot(wl[flagged], flux[flagged], "rx", ms=3, label=f"DQ flagged ({flagged.sum()})")
    ax.set_ylim(*spectrum_limits(flux))
    ax.set_title(label, fontsize=8)
    ax.set_xlabel(f"wavelength ({column_unit(table, 'WAVELENGTH')})", fontsize=8)
    ax.set_ylabel(f"flux ({column_unit(table, 'FLUX')})", fontsize=8)
    ax.tick_params(labelsize=7)


def _image(fig, ax, image, label, extent=None, aspect="auto"):
    lo, hi = image_limits(image)
    im = ax.imshow(image, origin="lower", vmin=lo, vmax=hi, cmap="viridis", aspect=aspect,
                   extent=extent, interpolation="nearest")
    fig.colorbar(im, ax=ax, label=label, fraction=0.046, pad=0.02)
    return im


def _rectified_panel(fig, ax, slit, dispersion_direction, unit):
    data, wavelength = along_wavelength(median_plane(slit.data), slit.wavelength, dispersion_direction)
    wl = column_wavelengths(wavelength) if np.size(wavelength) else None
    if wl is None:
        _image(fig, ax, data, unit)
        ax.set_xlabel("dispersion (pixel)")
    else:
        if wl[0] > wl[-1]:  # blue on the left
            data, wl = data[:, ::-1], wl[::-1]
        step = (wl[-1] - wl[0]) / max(wl.size - 1, 1)
        _image(fig, ax, data, unit, extent=(wl[0] - step / 2, wl[-1] + step / 2, -0.5, data.shape[0] - 0.5))
        ax.set_xlabel("wavelength (µm)")
    ax.set_ylabel("cross-dispersion (pixel)")


def _outline(ax, x, y, color="r", label=None):
    (x0, x1), (y0, y1) = x, y
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], "-", color=color, lw=0.8, label=label)


def draw_x1d(fig, model, kind):
    spectra = spectra_of(model, kind)
    if not spectra:
        raise ProductError("the product holds no spectrum")
    shown = spectra[:MAX_PANELS]
    rows, cols = grid_shape(len(shown))
    fig.set_size_inches(4.2 * cols, 2.8 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, spectrum in zip(axes, shown):
        _spectrum_panel(ax, *spectrum)
    for ax in axes[len(shown):]:
        ax.axis("off")
    axes[0].legend(fontsize=6, loc="best")
    return "" if len(shown) == len(spectra) else f"   (first {len(shown)} of {len(spectra)} spectra)"


def draw_x1dints(fig, model):
    fig.set_size_inches(11, 3.6 * len(model.spec) + 0.6)
    axes = fig.subplots(len(model.spec), 2, squeeze=False, gridspec_kw={"width_ratios": [2, 3]})
    for (curve, series), spec in zip(axes, model.spec):
        table = spec.spec_table
        flux, wl = np.asarray(table["FLUX"], float), np.asarray(table["WAVELENGTH"], float)
        white = white_light(flux)
        norm = white / quiet_nan(np.nanmedian, white)
        names = table.dtype.names
        times = np.asarray(table["MJD-AVG"], float) if "MJD-AVG" in names else np.full(norm.size, np.nan)
        if np.isfinite(times).all():
            curve.plot(times - times[0], norm, "o", ms=3)
            curve.set_xlabel(f"time since MJD {times[0]:.5f} (days)")
        else:
            curve.plot(np.arange(1, norm.size + 1), norm, "o", ms=3)
            curve.set_xlabel("integration")
        curve.set_ylim(*robust_limits(norm, low=0.5, high=99.5))
        curve.set_ylabel("white light (relative)")
        curve.set_title(f"{spec.name or 'spectrum'} order {spec.spectral_order}: white light", fontsize=9)
        row_wl = column_wavelengths(wl)
        if row_wl is None:
            _image(fig, series, flux, f"flux ({column_unit(table, 'FLUX')})")
            series.set_xlabel("column (pixel)")
        else:
            if row_wl[0] > row_wl[-1]:
                flux, row_wl = flux[:, ::-1], row_wl[::-1]
            _image(fig, series, flux, f"flux ({column_unit(table, 'FLUX')})",
                   extent=(row_wl[0], row_wl[-1], 0.5, flux.shape[0] + 0.5))
            series.set_xlabel(f"wavelength ({column_unit(table, 'WAVELENGTH')})")
        series.set_ylabel("integration")
        series.set_title("spectrum time series", fontsize=9)
    return ""


def resampled(model) -> bool:
    """A rectified product (``_s2d``): resample_spec ran on it."""
    return model.meta.cal_step.resample == "COMPLETE"


def draw_slits(fig, model, kind):
    """A SlitModel or a MultiSlitModel: rectified spectra (``_s2d``) as small multiples;
    a calibrated slit ``_cal``/``_calints``: the detector (the median of the
    integrations), cut-outs painted where they were cut from and outlined."""
    slits = [model] if kind == "slit" else list(model.slits)
    if not slits:
        raise ProductError("the product holds no slit")
    unit = slits[0].meta.bunit_data or ""
    if resampled(model):
        shown = slits[:MAX_PANELS]
        rows, cols = grid_shape(len(shown), columns=2)
        fig.set_size_inches(6.5 * cols, 2.6 * rows + 0.6)
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, slit in zip(axes, shown):
            _rectified_panel(fig, ax, slit, dispersion_direction(slit, model), unit)
            if kind == "multislit":
                ax.set_title(f"{slit.name} (source {slit.source_id})", fontsize=8)
        for ax in axes[len(shown):]:
            ax.axis("off")
        return "" if len(shown) == len(slits) else f"   (first {len(shown)} of {len(slits)} slits)"
    if kind == "slit":
        return draw_detector(fig, model, kind)
    # every cut-out where it was cut from (xstart/ystart are 1-based)
    # the whole science array when the header gives its size (the subarray's, or full frame)
    sub = model.meta.subarray
    ny = max([int(s.ystart or 1) - 1 + s.data.shape[-2] for s in slits] + [int(sub.ysize or 0)])
    nx = max([int(s.xstart or 1) - 1 + s.data.shape[-1] for s in slits] + [int(sub.xsize or 0)])
    canvas = np.full((ny, nx), np.nan)
    for s in slits:
        x0, y0 = int(s.xstart or 1) - 1, int(s.ystart or 1) - 1
        plane = median_plane(s.data)
        h, w = plane.shape
        canvas[y0:y0 + h, x0:x0 + w] = np.where(np.isfinite(plane), plane, canvas[y0:y0 + h, x0:x0 + w])
    fig.set_size_inches(9, 7)
    ax = fig.subplots()
    _image(fig, ax, canvas, unit, aspect=aspect_of(canvas.shape))
    for s in slits:
        x0, y0 = int(s.xstart or 1) - 1, int(s.ystart or 1) - 1
        _outline(ax, *slit_outline(s, x0, y0))
    ax.set_xlabel("detector column (pixel)")
    ax.set_ylabel("detector row (pixel)")
    return f"   ({len(slits)} slits outlined)"


def slit_outline(slit, x0, y0):
    """((x0, x1), (y0, y1)) on the detector of a cut-out at 0-based (x0, y0): its WCS
    bounding box (where the slit's light falls) when it has one, else the cut-out."""
    box = wcs_rectangle(slit.meta.wcs) if slit.meta.hasattr("wcs") and slit.meta.wcs is not None else None
    if box is None:
        h, w = slit.data.shape[-2:]
        box = ((-0.5, w - 0.5), (-0.5, h - 0.5))
    (bx0, bx1), (by0, by1) = box
    return (x0 + bx0, x0 + bx1), (y0 + by0, y0 + by1)


def median_plane(data):
    """A 2-D image of 2-D data, or the median over the integrations of 3-D data."""
    data = np.asarray(data, float)
    return quiet_nan(np.nanmedian, data, axis=0) if data.ndim == 3 else data


def aspect_of(shape):
    """Square pixels unless the image is a long strip (a grism cut-out)."""
    ny, nx = shape
    return "equal" if max(nx, ny) < 8 * min(nx, ny) else "auto"


def draw_detector(fig, model, kind):
    """``_cal``/``_calints`` of a slitless exposure or of one slit (MIRI LRS, a time
    series cut-out): the image (median of the integrations) with the WCS bounding box
    outlined."""
    note = f"   (median of {model.data.shape[0]} integrations)" if model.data.ndim == 3 else ""
    data = median_plane(model.data)
    fig.set_size_inches(9, 7)
    ax = fig.subplots()
    _image(fig, ax, data, model.meta.bunit_data or "", aspect=aspect_of(data.shape))
    box = wcs_rectangle(model.meta.wcs) if model.meta.hasattr("wcs") and model.meta.wcs is not None else None
    if box is not None:
        _outline(ax, *box, label="WCS bounding box")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("detector column (pixel)")
    ax.set_ylabel("detector row (pixel)")
    return note


def draw_cube(fig, model):
    data = np.asarray(model.data, float)
    white = quiet_nan(np.nansum, np.where(np.isfinite(data), data, 0.0), axis=0)
    white[~np.isfinite(data).any(axis=0)] = np.nan
    if not np.isfinite(white).any():
        raise ProductError("the cube holds no finite pixel")
    y, x = np.unravel_index(np.nanargmax(white), white.shape)
    wl = cube_wavelengths(model)
    fig.set_size_inches(12, 4.8)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 3]})
    _image(fig, left, white, "summed over wavelength", aspect="equal")
    left.plot([x], [y], "r+", ms=12, mew=1.5)
    left.set_xlabel("x (spaxel)")
    left.set_ylabel("y (spaxel)")
    left.set_title("white light", fontsize=9)
    spectrum = data[:, y, x]
    if wl is None:
        right.plot(np.arange(spectrum.size), spectrum, lw=0.8)
        right.set_xlabel("plane")
    else:
        right.plot(wl, spectrum, lw=0.8)
        right.set_xlabel("wavelength (µm)")
    right.set_ylim(*spectrum_limits(spectrum))
    right.set_ylabel(f"surface brightness ({model.meta.bunit_data or 'MJy/sr'})")
    right.set_title(f"brightest spaxel (x={x}, y={y})", fontsize=9)
    return ""


def figure_for(model, name=None):
    """The quick-look Figure of an open product (not saved): its kind's drawing, titled
    with ``name`` (default meta.filename) and EXP_TYPE. ProductError when the model is not
    a product kind spec2 knows or holds nothing to draw; MissingMatplotlib without it."""
    Figure = require_matplotlib()
    kind = kind_of(model)
    fig = Figure(layout="constrained")
    if kind in ("x1d", "wfss_x1d"):
        note = draw_x1d(fig, model, kind)
    elif kind == "x1dints":
        note = draw_x1dints(fig, model)
    elif kind in ("slit", "multislit"):
        note = draw_slits(fig, model, kind)
    elif kind == "s3d":
        note = draw_cube(fig, model)
    else:
        note = draw_detector(fig, model, kind)
    fig.suptitle(title_of(model, name or model.meta.filename or "product") + note, fontsize=10)
    return fig


# -- the writer ---------------------------------------------------------------------------


def png_name(product) -> str:
    """``<product name>.png`` (``jw..._x1d.fits`` -> ``jw..._x1d.png``)."""
    return Path(product).stem + ".png"


def write_quicklook(product, out_dir=None, dpi=100) -> Path:
    """Draw ``product`` (a path) into ``out_dir`` (default: next to it) as
    :func:`png_name`; returns the PNG's path. ProductError (one line) when the file is
    not a product spec2 can draw; nothing is written then."""
    require_matplotlib()
    product = Path(product)
    out_dir = Path(out_dir) if out_dir is not None else product.parent
    with open_product(product) as model:
        try:
            fig = figure_for(model, product.name)
        except MissingMatplotlib:
            raise
        except ProductError as exc:
            raise ProductError(f"{product.name}: {exc}") from None
        except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:  # a malformed product
            raise ProductError(f"{product.name}: cannot be drawn ({type(exc).__name__}: {exc})") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / png_name(product)
    fig.savefig(path, dpi=dpi)
    return path
