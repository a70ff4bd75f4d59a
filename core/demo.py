"""``spec2 demo``: simulate every plugin's demonstration exposures, calibrate them, and
say how the extracted spectra compare with the injected ones.

Plugins provide the data through the ``spec2_demo_data`` hook; all of them write their
reference files into one local CRDS cache, which the run then uses through the standard
CRDS environment variables, exactly as a user's run against a real cache would.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger("spec2")


@dataclass
class DemoCase:
    """One simulated observation and its truth."""

    name: str
    description: str
    inputs: list[Path]  # rate/rateints files or association JSON files
    truth_wavelength: np.ndarray  # micron
    truth_flux: np.ndarray  # Jy, out of transit for time series
    light_curve: np.ndarray | None = None  # relative flux per integration (time series)
    wavelength_range: tuple[float, float] | None = None  # where to compare (micron)
    source_id: int | None = None  # WFSS: the catalog source the truth belongs to
    spectral_order: int = 1  # WFSS: the order compared
    products: list[Path] = field(default_factory=list)


def compare_spectrum(wavelength, flux, case: DemoCase):
    """Median and 90th-percentile |flux/truth - 1| inside the comparison range."""
    wavelength = np.asarray(wavelength, float)
    flux = np.asarray(flux, float)
    truth = np.interp(wavelength, case.truth_wavelength, case.truth_flux, left=np.nan, right=np.nan)
    lo, hi = case.wavelength_range or (np.nanmin(case.truth_wavelength), np.nanmax(case.truth_wavelength))
    good = np.isfinite(flux) & np.isfinite(truth) & (wavelength >= lo) & (wavelength <= hi) & (truth > 0)
    if not good.any():
        return np.nan, np.nan
    dev = np.abs(flux[good] / truth[good] - 1)
    return float(np.median(dev)), float(np.percentile(dev, 90))


def _x1d_arrays(path, case=None):
    """(wavelength, flux) of the first spectrum (WFSS: the case's source in the case's
    order); time series: one row per integration."""
    from stdatamodels.jwst import datamodels

    with datamodels.open(path) as m:
        if isinstance(m, datamodels.WFSSMultiSpecModel):
            return _wfss_row(m, case)
        spec = m.spec[0]
        wl = np.asarray(spec.spec_table["WAVELENGTH"], float)
        flux = np.asarray(spec.spec_table["FLUX"], float)
    if flux.ndim == 2:
        return wl[0], flux
    return wl, flux


def _wfss_row(model, case):
    """(wavelength, flux) of ``case.source_id`` in the table of ``case.spectral_order``
    of a WFSS x1d (NaN when the source has no spectrum there)."""
    for table in model.spec:
        if table.spectral_order != case.spectral_order:
            continue
        for row in table.spec_table:
            if int(row["SOURCE_ID"]) == case.source_id:
                n = int(row["N_ALONGDISP"])
                return np.asarray(row["WAVELENGTH"][:n], float), np.asarray(row["FLUX"][:n], float)
    return np.array([np.nan]), np.array([np.nan])


def run_demo(directory: Path) -> int:
    from spec2.association import expand_inputs
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2.pipeline import RunOptions, run_all
    from spec2.plugins import get_plugin_manager

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    crds_root = directory / "crds_cache"
    pm = get_plugin_manager()
    cache = LocalCache(crds_root)
    cases = [c for group in pm.hook.spec2_demo_data(directory=directory, cache=cache) for c in group]
    if not cases:
        print("no installed plugin provides demonstration data")
        return 1
    cache.finish()
    # The run selects references from the simulated cache like any CRDS-configured run.
    os.environ.update(crds_environment(crds_root))
    products_dir = directory / "products"
    failures = 0
    lines = []
    for case in cases:
        results = run_all(pm, expand_inputs(case.inputs), RunOptions(products_dir))
        failures += sum(not r.ok for r in results)
        for r in results:
            case.products.extend(r.products)
        lines.append(f"{case.name}: {case.description}")
        for r in results:
            lines.append(f"  {r.name}: " + ("ok in %.1f s" % r.seconds if r.ok else f"FAILED: {r.error}"))
        for product in case.products:
            lines.append(f"    {product}")
            if product.name.endswith(("_x1d.fits", "_x1dints.fits")):
                lines.extend("      " + t for t in _describe_x1d(product, case))
    png = _plot(cases, directory / "demo_spectra.png")
    print("\n".join(lines))
    print(f"\nreference files (local CRDS cache): {crds_root}")
    if png:
        print(f"plot: {png}")
    return 1 if failures else 0


def _nanmedian_rows(flux):
    """Median over integrations; columns with no finite value stay NaN, quietly."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(flux, axis=0)


def _describe_x1d(path, case):
    wl, flux = _x1d_arrays(path, case)
    if flux.ndim == 2:
        texts = []
        if case.light_curve is not None:
            white = np.nansum(flux, axis=1)
            oot = case.light_curve >= np.max(case.light_curve) - 1e-12
            norm = white / np.nanmedian(white[oot])
            depth_in = 1 - np.min(case.light_curve)
            depth_out = 1 - np.nanmedian(norm[case.light_curve <= np.min(case.light_curve) + 1e-12])
            texts.append(f"white-light transit depth: injected {depth_in:.4f}, recovered {depth_out:.4f}")
            flux = flux[oot]
        med, p90 = compare_spectrum(wl, _nanmedian_rows(flux), case)
        texts.append(
            f"{flux.shape[0]} integrations; out-of-transit spectrum vs injected: "
            f"median |ratio-1| = {med:.2%}, 90th percentile {p90:.2%}"
        )
        return texts
    med, p90 = compare_spectrum(wl, flux, case)
    which = "" if case.source_id is None else f"source {case.source_id}, order {case.spectral_order}: "
    return [f"{which}extracted vs injected spectrum: median |ratio-1| = {med:.2%}, 90th percentile {p90:.2%}"]


def _plot(cases, path: Path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib not installed: no plot (pip install 'spec2[plot]')")
        return None
    fig, axes = plt.subplots(len(cases), 1, figsize=(8, 3.2 * len(cases)), squeeze=False)
    for ax, case in zip(axes[:, 0], cases):
        ax.plot(case.truth_wavelength, case.truth_flux * 1e3, "k-", lw=2, alpha=0.4, label="injected")
        for product in case.products:
            if product.name.endswith(("_x1d.fits", "_x1dints.fits")):
                wl, flux = _x1d_arrays(product, case)
                if flux.ndim == 2:
                    flux = _nanmedian_rows(flux)
                ax.plot(wl, flux * 1e3, lw=1, label=product.name)
        if case.wavelength_range:
            ax.set_xlim(*case.wavelength_range)
        ax.set_title(case.name)
        ax.set_xlabel("wavelength (micron)")
        ax.set_ylabel("flux (mJy)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
