"""Combining 1-D spectra onto one wavelength grid, as jwst's combine_1d does it (the MOS
master background averages its background slitlets' spectra this way).

1. The output grid (:func:`output_wavelengths`): all input wavelengths merged and
   sorted; where N spectra overlap, clumps of N nearly equal wavelengths become one
   output wavelength (their mean), and stretches with no clear clump are filled with
   means of blocks of N.
2. Each input pixel goes to the nearest output pixel (linear interpolation of the
   output pixel index against the output wavelengths, rounded half to even); pixels
   flagged DO_NOT_USE or with NaN flux are left out, other DQ bits are OR-ed in.
3. Optionally sigma-clipped (flux x weight against the per-wavelength median, the
   threshold ``sigma_clip`` x one median absolute deviation of all values), then the
   weighted mean (weights: each spectrum's exposure time); errors add in quadrature.
4. Output wavelengths no input reached are dropped.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from spec2.algorithms.dq import DO_NOT_USE


@dataclass
class Spectrum1D:
    """One input spectrum's columns (as an x1d SPEC_TABLE has them) and its weight."""

    wavelength: np.ndarray
    flux: np.ndarray
    flux_error: np.ndarray
    surf_bright: np.ndarray
    sb_error: np.ndarray
    dq: np.ndarray
    weight: float = 1.0


@dataclass
class Combined1D:
    """The combined spectrum: the columns of a CombinedSpecModel's SPEC_TABLE."""

    wavelength: np.ndarray
    flux: np.ndarray
    error: np.ndarray
    surf_bright: np.ndarray
    sb_error: np.ndarray
    dq: np.ndarray
    weight: np.ndarray
    n_input: np.ndarray


def is_monotonic(wavelength) -> bool:
    """Strictly increasing or strictly decreasing (fewer than two values: True)."""
    d = np.diff(wavelength)
    return len(wavelength) < 2 or bool(np.all(d > 0) or np.all(d < 0))


def coverage(wavelengths: list[np.ndarray]):
    """(all wavelengths merged and sorted, how many spectra cover each of them).

    A spectrum covers from half a pixel before its first wavelength to half a pixel
    past its last (the upper edge excluded); spectra of fewer than two points or with
    equal first two wavelengths cover nothing."""
    usable = [np.asarray(w, np.float64) for w in wavelengths if len(w) > 1]
    wl = np.sort(np.concatenate(usable))
    n = np.zeros(len(wl), np.int64)
    for w in usable:
        if w[1] > w[0]:
            lo, hi = w[0] - 0.5 * (w[1] - w[0]), w[-1] + 0.5 * (w[-1] - w[-2])
        elif w[1] < w[0]:
            lo, hi = w[-1] - 0.5 * (w[-2] - w[-1]), w[0] + 0.5 * (w[0] - w[1])
        else:
            continue
        n += (wl >= lo) & (wl < hi)
    if np.any(n <= 0):
        raise ValueError("the input wavelengths do not cover their own range (non-monotonic spectra?)")
    return wl, n


def output_wavelengths(wl, n) -> np.ndarray:
    """The output grid from merged wavelengths ``wl`` and their coverage ``n`` (see the
    module docstring, step 1); sorted."""
    nwl = len(wl)
    sigma = np.full(nwl, 9999.0)
    mean = np.full(nwl, -99.0)
    out = np.full(nwl, -99.0)
    for k in range(nwl):
        if n[k] == 1:
            sigma[k], mean[k], out[k] = 0.0, wl[k], wl[k]
            continue
        k1 = k + n[k] // 2 + 1
        k0 = k1 - n[k]
        if k0 >= 0 and k1 <= nwl:
            sigma[k], mean[k] = wl[k0:k1].std(), wl[k0:k1].mean()
            if sigma[k] == 0.0:
                out[k] = mean[k]
    cutoff = 0.8  # a clump: spread well under its neighbours'
    for k in range(nwl):
        if sigma[k] <= 0.0:
            continue
        if k == 0:
            neighbours = sigma[1]
        elif k == nwl - 1:
            neighbours = sigma[nwl - 2]
        else:
            neighbours = (sigma[k - 1] + sigma[k + 1]) / 2.0
        if sigma[k] < cutoff * neighbours:
            out[k] = mean[k]
    i = 0
    while i < nwl:  # fill the gaps with means of blocks of n
        step = n[i]
        if i + step // 2 < nwl:
            step = n[i + step // 2]
            if i + step < nwl:
                low, high = max(i - 1, 0), min(i + step + 1, nwl - 1)
                if out[low:high].max() <= 0.0:
                    out[i] = wl[i:i + step].mean()
        i += step
    return np.sort(out[out > 0.0])


def output_pixels(wavelength, grid) -> np.ndarray:
    """The fractional output pixel of each input wavelength (NaN outside the grid)."""
    pixel = np.arange(len(grid), dtype=np.float64)
    if grid[-1] < grid[0]:
        grid, pixel = grid[::-1], pixel[::-1]
    wavelength = np.asarray(wavelength, np.float64)
    out = np.interp(wavelength, grid, pixel)
    out[(wavelength < grid[0]) | (wavelength > grid[-1]) | np.isnan(wavelength)] = np.nan
    return out


def combine_spectra(spectra: list[Spectrum1D], sigma_clip: float | None = None) -> Combined1D:
    """Combine ``spectra`` as the module docstring says; ValueError if there are none."""
    if not spectra:
        raise ValueError("no spectra to combine")
    grid = output_wavelengths(*coverage([s.wavelength for s in spectra]))
    nspec, nelem = len(spectra), len(grid)
    cols = {k: np.zeros((nspec, nelem)) for k in ("flux", "flux_error", "surf_bright", "sb_error", "weight", "count")}
    dq = np.zeros(nelem, np.uint32)
    for s, spec in enumerate(spectra):
        pixel = output_pixels(spec.wavelength, grid)
        use = ((np.asarray(spec.dq) & DO_NOT_USE) == 0) & ~np.isnan(spec.flux) & ~np.isnan(pixel)
        k = np.rint(np.where(use, pixel, -1)).astype(np.int64)
        use &= (k >= 0) & (k < nelem)
        k = k[use]
        np.bitwise_or.at(dq, k, np.asarray(spec.dq, np.uint32)[use])
        # several input pixels on one output pixel: the last one counts
        for name in ("flux", "flux_error", "surf_bright", "sb_error"):
            cols[name][s, k] = np.asarray(getattr(spec, name), np.float64)[use]
        cols["weight"][s, k] = spec.weight
        cols["count"][s, k] = 1.0
    flux, ferr, sb, sberr, weight, count = _weighted_mean(**cols, sigma_clip=sigma_clip)
    keep = count > 0
    return Combined1D(grid[keep], flux[keep], ferr[keep], sb[keep], sberr[keep], dq[keep], weight[keep],
                      count[keep])


def _weighted_mean(flux, flux_error, surf_bright, sb_error, weight, count, sigma_clip):
    """Columns [spectrum, wavelength] -> per-wavelength weighted means (step 3)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN columns
        if sigma_clip is not None:
            weighted = flux * weight
            masked = np.where((count < 1) | (weighted == 0.0), np.nan, weighted)
            median = np.nanmedian(masked, axis=0)
            mad = np.nanmedian(np.abs(masked - median))
            clipped = np.abs(weighted - median) > sigma_clip * mad
            for a in (flux, flux_error, surf_bright, sb_error):
                a[clipped] = np.nan
            count[clipped] = 0
            weight[clipped] = 0
        total = np.nansum(weight, axis=0)
        norm = np.where(total > 0.0, total, 1.0)
        return (np.nansum(flux * weight, axis=0) / norm,
                np.sqrt(np.nansum((flux_error * weight) ** 2, axis=0)) / norm,
                np.nansum(surf_bright * weight, axis=0) / norm,
                np.sqrt(np.nansum((sb_error * weight) ** 2, axis=0)) / norm,
                total, np.nansum(count, axis=0))


def median_filter(values, kernel: int) -> np.ndarray:
    """A moving median of odd width ``kernel`` (an even one is taken one smaller; 1 or
    less: unchanged), zero-padded at the ends as scipy's medfilt is."""
    if kernel % 2 == 0:
        kernel -= 1
    if kernel <= 1:
        return np.asarray(values)
    from scipy.signal import medfilt

    return medfilt(values, kernel_size=[kernel])
