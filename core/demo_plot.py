"""The demo's verdict figure: per case, the calibrated spectra against the injected one
on the case's wavelength range, with a y axis fitted to the data; for time series, a
second panel with the white-light curve against the injected transit. The pictures of
each product are `spec2 plot`'s (spec2.quicklook, written by spec2.demo). matplotlib is
optional (the "plot" extra); without it there is no figure.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from spec2.demo import case_range, nanmedian_rows
from spec2.demo_verdict import in_range, out_of_transit, white_light
from spec2.quicklook import robust_limits

log = logging.getLogger("spec2")

NOISY = 0.02  # median relative error above which binned points are drawn over the raw ones


def binned(wavelength, flux, size):
    """Medians of ``size`` consecutive finite elements (wavelength, flux)."""
    good = np.isfinite(wavelength) & np.isfinite(flux)
    wl, fl = np.asarray(wavelength)[good], np.asarray(flux)[good]
    n = wl.size // size
    if n == 0:
        return wl, fl
    return (np.median(wl[: n * size].reshape(n, size), axis=1),
            np.median(fl[: n * size].reshape(n, size), axis=1))


def spectrum_of(measured, case):
    """The 1-D spectrum shown: time series, the median of the out-of-transit integrations."""
    if not measured.is_series:
        return measured.flux, measured.error
    use = np.ones(measured.flux.shape[0], bool)
    if case.light_curve is not None and len(case.light_curve) == measured.flux.shape[0]:
        use = out_of_transit(case.light_curve)
    return nanmedian_rows(measured.flux[use]), nanmedian_rows(measured.error[use]) / np.sqrt(use.sum())


def _spectrum_panel(ax, outcome):
    case = outcome.case
    lo, hi = case_range(case)
    shown = [in_range(case.truth_wavelength, lo, hi)]
    truth_mjy = case.truth_flux[shown[0]] * 1e3
    ax.plot(case.truth_wavelength[shown[0]], truth_mjy, "k-", lw=2.5, alpha=0.35, label="injected", zorder=3)
    data = []
    for measured in outcome.measured:
        flux, error = spectrum_of(measured, case)
        sel = in_range(measured.wavelength, lo, hi) & np.isfinite(flux)
        wl, mjy = measured.wavelength[sel], flux[sel] * 1e3
        data.append(mjy)
        rel = np.nanmedian(np.abs(error[sel] / flux[sel])) if sel.any() else 0.0
        if rel > NOISY:
            line, = ax.plot(wl, mjy, lw=0.6, alpha=0.35)
            size = int(np.clip(np.ceil((rel / 0.03) ** 2), 2, 20))  # bins of ~3 % noise, lines kept
            ax.plot(*binned(wl, mjy, size), "o-", ms=2.5, lw=1, color=line.get_color(),
                    label=f"{measured.label} (binned ×{size})")
        else:
            ax.plot(wl, mjy, lw=1, label=measured.label)
    ax.set_xlim(lo, hi)
    ax.set_ylim(*robust_limits(*data, include=truth_mjy))
    verdict = "PASS" if outcome.passed else "FAIL"
    ax.set_title(f"{verdict}  {case.name}", fontsize=10, color="k" if outcome.passed else "r")
    ax.set_xlabel("wavelength (µm)")
    ax.set_ylabel("flux (mJy)")
    ax.legend(fontsize=6.5, loc="best")


def _light_curve_panel(ax, outcome):
    case = outcome.case
    ax.plot(np.arange(len(case.light_curve)), case.light_curve, "k-", lw=2.5, alpha=0.35, label="injected transit")
    curves = []
    for measured in outcome.measured:
        if not measured.is_series or len(case.light_curve) != measured.flux.shape[0]:
            continue
        white = white_light(measured.flux, measured.wavelength, case_range(case))
        norm = white / np.mean(white[out_of_transit(case.light_curve)])
        curves.append(norm)
        ax.plot(np.arange(norm.size), norm, "o", ms=3, label=f"{measured.label} white light")
    ax.set_ylim(*robust_limits(*curves, low=0.5, high=99.5, include=case.light_curve))
    ax.set_title(f"{case.name}: white light {case_range(case)[0]:g}–{case_range(case)[1]:g} µm", fontsize=10)
    ax.set_xlabel("integration")
    ax.set_ylabel("relative flux")
    ax.legend(fontsize=6.5, loc="lower left")


def plot_outcomes(outcomes, path: Path):
    """One row per case (spectrum; white-light curve beside it for time series); returns
    the PNG's path, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib not installed: no plot (pip install 'spec2[plot]')")
        return None
    fig, axes = plt.subplots(len(outcomes), 2, figsize=(13, 3.4 * len(outcomes)), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 2]})
    for (left, right), outcome in zip(axes, outcomes):
        _spectrum_panel(left, outcome)
        if outcome.case.light_curve is not None and any(m.is_series for m in outcome.measured):
            _light_curve_panel(right, outcome)
        else:
            right.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
