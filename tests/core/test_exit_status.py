"""The exit status of ``spec2 process`` from its exposures' outcomes: 0 when all were
calibrated, the failures' own status when they agree (64: no data on the detector, as
jwst's), else 1."""

from spec2.cli import summarize
from spec2.errors import InputError, NoDataOnDetector
from spec2.pipeline import ExposureResult


def _failed(name, exc):
    return ExposureResult(name, error=str(exc), exit_status=exc.exit_status)


def test_exit_status():
    ok = ExposureResult("a")
    nodata = _failed("b", NoDataOnDetector("no open slit falls on detector NRS2"))
    bad = _failed("c", InputError("bad file"))
    assert summarize([ok]) == 0
    assert summarize([ok, nodata]) == 64
    assert summarize([nodata, bad]) == 1
    assert summarize([ok, bad]) == 1
    assert summarize([ExposureResult("d", error="association problem")]) == 1  # no status recorded: 1
    assert summarize([]) == 1
