"""A run of many exposures in this process: duplicates, the run report, --resume, and the
progress displays. Uses the in-memory toy plugin (tests/core/toy.py); the parallel engines
are tested on real MIRI exposures in tests/core/test_parallel.py."""

import io
import json
import os

import pytest

from spec2.association import Exposure, FailedInput
from spec2.batch import process, unique_exposures
from spec2.pipeline import ExposureResult, RunOptions
from spec2.plugins import get_plugin_manager
from spec2.progress import (
    LiveProgress,
    LogProgress,
    eta_seconds,
    format_duration,
    make_progress,
)
from spec2.report import REPORT_NAME, fingerprint, product_is_complete, summary_line

from .toy import ToyPlugin, flat_model, write_rate


def options(tmp_path, **kw):
    kw.setdefault("overrides", {"flat": flat_model()})
    return RunOptions(tmp_path / "out", **kw)


@pytest.fixture
def three_rates(tmp_path):
    return [write_rate(tmp_path / f"jw0{i}_rate.fits", value=float(i + 1)) for i in range(3)]


def run(tmp_path, inputs, plugin=None, **kw):
    pm = get_plugin_manager([plugin or ToyPlugin()], load_entrypoints=False)
    opts = options(tmp_path, **{k: v for k, v in kw.items() if k in ("skip", "settings", "overrides")})
    return process(inputs, opts, jobs=1, pm=pm, resume=kw.get("resume", False), progress=kw.get("progress"))


# -- pure helpers ---------------------------------------------------------------------


def test_format_duration_and_eta():
    assert format_duration(0) == "0:00"
    assert format_duration(75.2) == "1:15"
    assert format_duration(3725) == "1:02:05"
    assert eta_seconds(0, 10, 5.0) is None  # nothing finished: no estimate
    assert eta_seconds(2, 10, 5.0) == pytest.approx(20.0)  # 2.5 s each, 8 left
    assert eta_seconds(10, 10, 5.0) == 0.0


def test_summary_line_counts():
    results = [
        ExposureResult("a", products=["a_cal.fits", "a_x1d.fits"]),
        ExposureResult("b", error="boom"),
        ExposureResult("c", products=["c_cal.fits"], resumed=True),
    ]
    assert summary_line(results) == (
        "spec2: 2 of 3 exposure(s) calibrated (1 resumed from an earlier run), 1 failed; 2 product(s) written"
    )


def test_duplicates_run_once_and_conflicting_names_fail(tmp_path, three_rates):
    a = Exposure("jw00", three_rates[0])
    same = Exposure("jw00", tmp_path / "." / three_rates[0].name)
    other = Exposure("jw00", three_rates[1])
    out = unique_exposures([a, same, other])
    assert out[0] is a and len(out) == 2
    assert isinstance(out[1], FailedInput) and "already used by" in str(out[1].error)


def test_fingerprint_follows_inputs_and_options(tmp_path, three_rates):
    exp = Exposure("jw00", three_rates[0])
    base = fingerprint(exp, options(tmp_path))
    assert fingerprint(exp, options(tmp_path)) == base
    assert fingerprint(exp, options(tmp_path, skip=frozenset({"flat_field"}))) != base
    assert fingerprint(exp, options(tmp_path, settings={"toy_scale": {"factor": 3.0}})) != base
    os.utime(three_rates[0], ns=(1, 1))  # the science file changed
    assert fingerprint(exp, options(tmp_path)) != base


def test_product_is_complete_detects_truncation_and_size(tmp_path):
    path = write_rate(tmp_path / "x_rate.fits")
    size = path.stat().st_size
    assert product_is_complete(path, size)
    assert not product_is_complete(path, size + 2880)  # not the size the report recorded
    data = path.read_bytes()
    path.write_bytes(data[:-2880])
    assert not product_is_complete(path, size - 2880)  # a header promising more data
    assert not product_is_complete(tmp_path / "gone.fits", size)


# -- the run report -------------------------------------------------------------------


def test_report_records_steps_references_and_failures(tmp_path, three_rates):
    missing = tmp_path / "jw09_rate.fits"
    results, report_path = run(tmp_path, [*three_rates, missing], plugin=ToyPlugin(fail_in=None))
    assert report_path == tmp_path / "out" / REPORT_NAME
    report = json.loads(report_path.read_text())
    assert report["summary"]["total"] == 4 and report["summary"]["ok"] == 3 and report["summary"]["failed"] == 1
    assert report["summary"]["line"] == summary_line(results)
    first = report["exposures"][0]
    assert first["name"] == "jw00" and first["status"] == "ok" and first["worker"] == "local"
    assert [s["step"] for s in first["steps"]] == ["assign_wcs", "bkg_subtract", "flat_field", "toy_scale"]
    assert [s["status"] for s in first["steps"]] == ["COMPLETE", "SKIPPED", "COMPLETE", "COMPLETE"]
    assert first["steps"][2]["reference_files"] == {"flat": "toy_flat.fits"}
    assert first["products"][0]["path"].endswith("jw00_cal.fits")
    assert first["products"][0]["size"] == (tmp_path / "out" / "jw00_cal.fits").stat().st_size
    last = report["exposures"][3]
    assert last["status"] == "failed" and "no such file" in last["error"]


def test_report_names_the_step_that_failed(tmp_path, three_rates):
    _, report_path = run(tmp_path, three_rates[:1], plugin=ToyPlugin(fail_in="toy_scale"))
    [entry] = json.loads(report_path.read_text())["exposures"]
    assert entry["status"] == "failed" and "toy failure in toy_scale" in entry["error"]
    assert entry["steps"][-1]["step"] == "toy_scale" and entry["steps"][-1]["status"] == "FAILED"
    assert entry["products"] == []


# -- --resume -------------------------------------------------------------------------


def test_resume_skips_complete_exposures_only(tmp_path, three_rates):
    run(tmp_path, three_rates)
    out = tmp_path / "out"
    # one product damaged, one removed: those two exposures are recalculated
    cal1 = out / "jw01_cal.fits"
    cal1.write_bytes(cal1.read_bytes()[:-2880])
    (out / "jw02_cal.fits").unlink()
    toy = ToyPlugin()
    results, report_path = run(tmp_path, three_rates, plugin=toy, resume=True)
    assert [r.resumed for r in results] == [True, False, False]
    assert toy.calls.count("toy_scale") == 2
    assert all(r.ok for r in results)
    report = json.loads(report_path.read_text())
    assert [e["status"] for e in report["exposures"]] == ["resumed", "ok", "ok"]
    # the resumed record keeps what the earlier run did
    assert report["exposures"][0]["steps"][0]["step"] == "assign_wcs"
    assert product_is_complete(cal1, cal1.stat().st_size)

    # again: everything is complete now, nothing runs
    toy = ToyPlugin()
    results, _ = run(tmp_path, three_rates, plugin=toy, resume=True)
    assert all(r.resumed for r in results) and toy.calls == []


def test_resume_recalculates_when_options_change(tmp_path, three_rates):
    run(tmp_path, three_rates[:1])
    toy = ToyPlugin()
    [res], _ = run(tmp_path, three_rates[:1], plugin=toy, resume=True, settings={"toy_scale": {"factor": 5.0}})
    assert not res.resumed and "toy_scale" in toy.calls


def test_without_resume_everything_runs(tmp_path, three_rates):
    run(tmp_path, three_rates)
    toy = ToyPlugin()
    results, _ = run(tmp_path, three_rates, plugin=toy)
    assert not any(r.resumed for r in results) and toy.calls.count("toy_scale") == 3


# -- progress -------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_choice():
    assert isinstance(make_progress(TTY(), quiet=False), LiveProgress)
    assert isinstance(make_progress(TTY(), quiet=True), LogProgress)
    assert isinstance(make_progress(io.StringIO(), quiet=False), LogProgress)


def test_live_line_shows_counts_steps_elapsed_and_eta():
    clock, stream = FakeClock(), TTY()
    live = LiveProgress(stream, clock=clock, tick=0)
    live.start(4)
    live.step("jw01", "flat_field")
    assert live.line().startswith("0/4 exposures, 0:00 elapsed | jw01: flat_field")
    clock.now += 30
    live.done(ExposureResult("jw01"))
    live.step("jw02", "photom")
    live.done(ExposureResult("jw03", error="bad"))
    # two done in 30 s: 15 s each, two left
    assert live.line() == "2/4 exposures (1 failed), 0:30 elapsed, ETA 0:30 | jw02: photom"
    live.emit_above("a log record")
    live.close()
    text = stream.getvalue()
    assert "a log record\n" in text and text.endswith("\r\x1b[2K")


def test_log_progress_is_plain_lines(caplog):
    clock = FakeClock()
    plain = LogProgress(clock=clock)
    plain.start(2)
    clock.now += 4
    with caplog.at_level("INFO", logger="spec2"):
        plain.done(ExposureResult("jw01", seconds=4.0))
    assert caplog.messages == ["[1/2] jw01: done in 4.0 s; 1/2 exposures, 0:04 elapsed, ETA 0:04"]


def test_batch_reports_progress(tmp_path, three_rates):
    clock = FakeClock()
    plain = LogProgress(clock=clock)
    run(tmp_path, three_rates, progress=plain)
    assert plain.finished == 3 and plain.total == 3 and plain.running == {}
