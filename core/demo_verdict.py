"""The demo's verdicts: does a calibrated spectrum (or white-light curve) recover what was
injected, within a stated threshold? Pure functions of arrays, no files.

A spectrum passes when both hold inside the case's wavelength range:

- systematic: |median(flux / truth) - 1| <= tolerance (a missing or doubled correction
  shifts the whole ratio; noise averages out of the median);
- scatter: median |flux / truth - 1| <= tolerance + median(error / truth) (for Gaussian
  noise the median absolute deviation is 0.67 sigma, so honest noise stays under the
  bound and a wrong wavelength solution or a broken element-by-element correction does
  not).

A transit passes when the recovered white-light depth is within 10 % of the injected one
plus three times its noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEPTH_TOLERANCE = 0.10  # of the injected depth
DEPTH_SIGMAS = 3.0


@dataclass
class SpectrumCheck:
    """How one extracted spectrum compares with the truth inside the range."""

    label: str
    n: int  # elements compared
    bias: float  # median(flux / truth) - 1
    scatter: float  # median |flux / truth - 1|
    noise: float  # median(error / truth)
    tolerance: float

    @property
    def scatter_bound(self) -> float:
        return self.tolerance + self.noise

    @property
    def passed(self) -> bool:
        return self.n > 0 and abs(self.bias) <= self.tolerance and self.scatter <= self.scatter_bound

    def text(self) -> str:
        if self.n == 0:
            return f"{self.label}: no finite element in the comparison range"
        return (f"{self.label}: median flux/truth - 1 = {self.bias:+.2%} (limit ±{self.tolerance:.1%}), "
                f"median |flux/truth - 1| = {self.scatter:.2%} (limit {self.scatter_bound:.2%} = "
                f"{self.tolerance:.1%} + noise {self.noise:.2%}), {self.n} elements")


@dataclass
class TransitCheck:
    """Injected and recovered white-light transit depth."""

    label: str
    injected: float
    recovered: float
    sigma: float  # noise of the recovered depth

    @property
    def limit(self) -> float:
        return DEPTH_TOLERANCE * self.injected + DEPTH_SIGMAS * self.sigma

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.recovered)) and abs(self.recovered - self.injected) <= self.limit

    def text(self) -> str:
        return (f"{self.label}: white-light transit depth {self.recovered:.4f}, injected {self.injected:.4f} "
                f"(limit ±{self.limit:.4f} = {DEPTH_TOLERANCE:.0%} + {DEPTH_SIGMAS:.0f} sigma)")


def in_range(wavelength, lo, hi):
    wavelength = np.asarray(wavelength, float)
    return np.isfinite(wavelength) & (wavelength >= lo) & (wavelength <= hi)


def check_spectrum(label, wavelength, flux, error, truth_wavelength, truth_flux, wavelength_range, tolerance):
    """Compare ``flux`` (with 1-sigma ``error``, same units as ``truth_flux``) with the truth
    interpolated onto ``wavelength``, inside ``wavelength_range``."""
    wavelength, flux = np.asarray(wavelength, float), np.asarray(flux, float)
    error = np.asarray(error, float) if error is not None else np.zeros_like(flux)
    truth = np.interp(wavelength, truth_wavelength, truth_flux, left=np.nan, right=np.nan)
    good = in_range(wavelength, *wavelength_range) & np.isfinite(flux) & np.isfinite(truth) & (truth > 0)
    if not good.any():
        return SpectrumCheck(label, 0, np.nan, np.nan, np.nan, tolerance)
    ratio = flux[good] / truth[good]
    noise = error[good] / truth[good]
    noise = float(np.median(noise[np.isfinite(noise)])) if np.isfinite(noise).any() else 0.0
    return SpectrumCheck(label, int(good.sum()), float(np.median(ratio) - 1),
                         float(np.median(np.abs(ratio - 1))), noise, tolerance)


def out_of_transit(light_curve):
    """Integrations at the light curve's maximum (before and after the transit)."""
    light_curve = np.asarray(light_curve, float)
    return light_curve >= np.max(light_curve) - 1e-12


def white_light(flux, wavelength, wavelength_range):
    """Per integration: the sum of the finite flux inside the range, over the elements that
    are finite in every integration (so a NaN in one integration does not fake a dip)."""
    flux = np.asarray(flux, float)
    columns = in_range(wavelength, *wavelength_range) & np.all(np.isfinite(flux), axis=0)
    return flux[:, columns].sum(axis=1)


def check_transit(label, white, light_curve):
    """Recovered depth: 1 - (mean in full transit) / (mean out of transit)."""
    white, light_curve = np.asarray(white, float), np.asarray(light_curve, float)
    oot = out_of_transit(light_curve)
    full = light_curve <= np.min(light_curve) + 1e-12
    injected = float(1 - np.min(light_curve))
    if not (oot.any() and full.any()) or white.size != light_curve.size:
        return TransitCheck(label, injected, np.nan, np.nan)
    norm = white / np.mean(white[oot])
    scatter = float(np.std(norm[oot], ddof=1)) if oot.sum() > 1 else 0.0
    sigma = scatter * np.sqrt(1 / full.sum() + 1 / oot.sum())
    return TransitCheck(label, injected, float(1 - np.mean(norm[full])), float(sigma))
