"""``spec2 demo``: simulate every plugin's demonstration exposures, calibrate them, and
say for each case whether the extracted spectra recover the injected ones (PASS/FAIL
against a stated threshold; the exit status is 1 if any case fails).

Plugins provide the data through the ``spec2_demo_data`` hook; all of them write their
reference files into one local CRDS cache, which the run then uses through the standard
CRDS environment variables, exactly as a user's run against a real cache would. The
exposures run through :func:`spec2.batch.process`, as ``spec2 process`` runs them, so the
products folder gets its ``spec2_report.json``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
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
    source_id: int | None = None  # WFSS, MOS: the source the truth belongs to
    spectral_order: int = 1  # WFSS: the order compared
    tolerance: float = 0.03  # systematic limit of the verdict (see spec2.demo_verdict)
    products: list[Path] = field(default_factory=list)
    # the products the case is judged on, and how a spectrum is read from one
    # ((path, case) -> (wavelength, flux, error)); by default the x1d's first spectrum
    judged_suffixes: tuple[str, ...] = ("_x1d.fits", "_x1dints.fits")
    reader: Callable | None = None


@dataclass
class Measured:
    """One calibrated spectrum of a case: the x1d product it came from, its arrays
    (time series: one flux row per integration) and the checks made on it."""

    product: Path
    label: str
    wavelength: np.ndarray
    flux: np.ndarray  # Jy; 2-D (integration, element) for time series
    error: np.ndarray
    checks: list = field(default_factory=list)

    @property
    def is_series(self) -> bool:
        return self.flux.ndim == 2


@dataclass
class CaseOutcome:
    """A case's verdict: every exposure calibrated and every check passed."""

    case: DemoCase
    errors: list[str] = field(default_factory=list)  # exposures that failed, one line each
    measured: list[Measured] = field(default_factory=list)

    @property
    def checks(self) -> list:
        return [c for m in self.measured for c in m.checks]

    @property
    def passed(self) -> bool:
        return not self.errors and bool(self.checks) and all(c.passed for c in self.checks)

    def lines(self) -> list[str]:
        verdict = "PASS" if self.passed else "FAIL"
        lines = [f"{verdict}  {self.case.name}: {self.case.description}"]
        lines += [f"      {e}" for e in self.errors]
        if not self.errors and not self.checks:
            lines.append("      no extracted spectrum to compare")
        lines += [f"  {'ok  ' if c.passed else 'FAIL'}  {c.text()}" for c in self.checks]
        return lines


def read_x1d(path, case: DemoCase):
    """(wavelength, flux, error) of the spectrum the case compares: the first spectrum, or
    the case's source (``source_id``) among the slits of a multi-slit x1d (MOS), or for
    WFSS the case's source in the case's order (NaN when the source has none there);
    time series: one row per integration, on the first integration's wavelengths."""
    from stdatamodels.jwst import datamodels

    with datamodels.open(path) as m:
        if isinstance(m, datamodels.WFSSMultiSpecModel):
            return _wfss_row(m, case)
        spec = m.spec[0]
        if case.source_id is not None:
            spec = next((s for s in m.spec if s.source_id == case.source_id), None)
            if spec is None:
                raise KeyError(f"no spectrum of source {case.source_id} in {Path(path).name}")
        table = spec.spec_table
        wl, flux, err = (np.asarray(table[c], float) for c in ("WAVELENGTH", "FLUX", "FLUX_ERROR"))
    if flux.ndim == 2:
        return wl[0], flux, err
    return wl, flux, err


def _wfss_row(model, case):
    for table in model.spec:
        if table.spectral_order != case.spectral_order:
            continue
        for row in table.spec_table:
            if int(row["SOURCE_ID"]) == case.source_id:
                n = int(row["N_ALONGDISP"])
                return tuple(np.asarray(row[c][:n], float) for c in ("WAVELENGTH", "FLUX", "FLUX_ERROR"))
    nan = np.array([np.nan])
    return nan, nan, nan


def measure(path: Path, case: DemoCase) -> Measured:
    """Read one product (an x1d, or what the case's reader reads) and check it against
    the case's truth."""
    from spec2.demo_verdict import (
        check_spectrum,
        check_transit,
        out_of_transit,
        white_light,
    )

    wl, flux, err = (case.reader or read_x1d)(path, case)
    label = path.name
    if case.source_id is not None:
        label += f" source {case.source_id}" + (f", order {case.spectral_order}" if case.reader is None else "")
    m = Measured(path, label, wl, flux, err)
    lo_hi = case_range(case)
    if m.is_series:
        use = np.ones(flux.shape[0], bool)
        if case.light_curve is not None and len(case.light_curve) == flux.shape[0]:
            m.checks.append(check_transit(label, white_light(flux, wl, lo_hi), case.light_curve))
            use = out_of_transit(case.light_curve)
        spectrum = nanmedian_rows(flux[use])
        # the median of n integrations: sqrt(pi/2) sigma / sqrt(n)
        noise = 1.2533 * nanmedian_rows(err[use]) / np.sqrt(use.sum())
        m.checks.insert(0, check_spectrum(f"{label}, median of {use.sum()} out-of-transit integrations", wl,
                                          spectrum, noise, case.truth_wavelength, case.truth_flux, lo_hi,
                                          case.tolerance))
    else:
        m.checks.append(check_spectrum(label, wl, flux, err, case.truth_wavelength, case.truth_flux, lo_hi,
                                       case.tolerance))
    return m


def case_range(case: DemoCase) -> tuple[float, float]:
    """Where the case is compared and plotted: its stated range, else the truth's."""
    if case.wavelength_range:
        return case.wavelength_range
    return float(np.nanmin(case.truth_wavelength)), float(np.nanmax(case.truth_wavelength))


def nanmedian_rows(flux):
    """Median over integrations; columns with no finite value stay NaN, quietly."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(flux, axis=0)


def evaluate(case: DemoCase, results) -> CaseOutcome:
    """The outcome of a case from its exposures' results (spec2.pipeline.ExposureResult)."""
    outcome = CaseOutcome(case)
    for r in results:
        if not r.ok:
            outcome.errors.append(f"{r.name}: FAILED: {r.error}")
        case.products.extend(r.products)
    for product in case.products:
        if product.name.endswith(case.judged_suffixes):
            try:
                outcome.measured.append(measure(product, case))
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # unreadable: a failure, not a crash
                outcome.errors.append(f"{product.name}: cannot be compared: {exc}")
    return outcome


def exposure_names(case: DemoCase) -> list[str]:
    """The product names the case's inputs expand to (how its results are found)."""
    from spec2.association import expand_inputs

    return [job.name for job in expand_inputs(case.inputs)]


def calibrate_and_judge(cases, options, jobs=1, pm=None):
    """Calibrate every case's inputs in one batch (spec2.batch.process: the run report goes
    next to the products) and judge each case; returns (outcomes, report path)."""
    from spec2.batch import process

    names = [exposure_names(case) for case in cases]
    results, report = process([p for case in cases for p in case.inputs], options, jobs=jobs, pm=pm)
    by_name = {r.name: r for r in results}
    outcomes = [evaluate(case, [by_name[n] for n in case_names if n in by_name])
                for case, case_names in zip(cases, names)]
    return outcomes, report


def summary(outcomes) -> str:
    """The last line: how many cases passed, and which failed."""
    failed = [o.case.name for o in outcomes if not o.passed]
    text = f"{len(outcomes) - len(failed)} of {len(outcomes)} cases PASS"
    return text + (f"; FAILED: {', '.join(failed)}" if failed else "")


def write_pictures(cases, out_dir: Path) -> list[Path]:
    """`spec2 plot`'s picture of every product the cases made, into ``out_dir``; [] without
    matplotlib. A product that cannot be drawn is logged and the others still drawn."""
    from spec2.product_kind import ProductError
    from spec2.quicklook import MissingMatplotlib, require_matplotlib, write_quicklook

    try:
        require_matplotlib()
    except MissingMatplotlib:
        return []
    pngs = []
    for product in (p for case in cases for p in case.products):
        try:
            pngs.append(write_quicklook(product, out_dir))
        except ProductError as exc:
            log.warning("no picture: %s", exc)
    return pngs


def run_demo(directory: Path, jobs: int = 1) -> int:
    """Simulate, calibrate and judge every case; 0 if every case passes, else 1."""
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2.demo_plot import plot_outcomes
    from spec2.pipeline import RunOptions
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
    outcomes, report = calibrate_and_judge(cases, RunOptions(directory / "products"), jobs=jobs, pm=pm)
    png = plot_outcomes(outcomes, directory / "demo_spectra.png")
    pictures = write_pictures(cases, directory / "plots")
    print("\n".join(line for outcome in outcomes for line in outcome.lines()))
    print(f"\n{summary(outcomes)}")
    print(f"run report: {report}")
    print(f"reference files (local CRDS cache): {crds_root}")
    if png:
        print(f"plot: {png}")
    if pictures:
        print(f"a picture of each product (as `spec2 plot`): {directory / 'plots'}")
    return 0 if all(o.passed for o in outcomes) else 1
