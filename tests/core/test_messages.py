"""Messages of a run (issue 13, items 4 and 5): a step's warnings reach the terminal with
their exposure's name, from worker processes too, and are listed per exposure in the run
report; -q prints a failure once; library output keeps off the progress line; the report
names the software, the CRDS settings, and is readable by others."""

import io
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from spec2.batch import process
from spec2.messages import ExposureFormatter, capture, library_messages_logged
from spec2.pipeline import RunOptions
from spec2.plugins import get_plugin_manager
from spec2.progress import LiveProgress

from .toy import write_rate
from .warn_toy import FAIL_VALUE, PHOTOM, WarnToy

HERE = Path(__file__).resolve().parent
BUILT_IN = "miri,nircam,niriss,nirspec,example_outliers"


@pytest.fixture
def rates(tmp_path):
    """Three exposures; the second one's step fails."""
    values = [1.0, FAIL_VALUE, 5.0]
    return [write_rate(tmp_path / f"jw0{i}_rate.fits", value=v) for i, v in enumerate(values)]


def run_here(tmp_path, inputs):
    pm = get_plugin_manager([WarnToy()], load_entrypoints=False)
    with library_messages_logged():
        return process(inputs, RunOptions(tmp_path / "out"), jobs=1, pm=pm)


# -- in this process ------------------------------------------------------------------


def test_warnings_are_kept_per_exposure_and_reported(tmp_path, rates):
    results, report_path = run_here(tmp_path, rates)
    first = results[0]
    assert first.ok and first.warnings == [
        PHOTOM, "2 source(s) centred off the detector dropped", "UserWarning: INT_TIMES not filled in jw00_rate.fits",
    ]
    # the failing exposure keeps what it said before it failed
    assert not results[1].ok and PHOTOM in results[1].warnings
    report = json.loads(report_path.read_text())
    assert [e["warnings"] for e in report["exposures"]] == [r.warnings for r in results]
    assert report["exposures"][2]["warnings"][-1] == "UserWarning: INT_TIMES not filled in jw02_rate.fits"


def test_report_names_software_and_crds_and_is_readable_by_others(tmp_path, rates, monkeypatch):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "crds"))
    monkeypatch.setenv("CRDS_SERVER_URL", "https://jwst-crds.stsci.edu")
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_1322.pmap")
    old = os.umask(0o022)
    try:
        _, report_path = run_here(tmp_path, rates[:1])
    finally:
        os.umask(old)
    report = json.loads(report_path.read_text())
    from spec2 import __version__

    assert report["software"]["spec2"] == __version__
    # a plugin registered in memory has no entry-point name; its version is still recorded
    assert list(report["software"]["plugins"].values()) == ["1.2.3"]
    assert report["crds"]["path"] == str(tmp_path / "crds")
    assert report["crds"]["server_url"] == "https://jwst-crds.stsci.edu"
    assert report["crds"]["requested_context"] == "jwst_1322.pmap"
    assert stat.S_IMODE(report_path.stat().st_mode) == 0o644
    cal = tmp_path / "out" / "jw00_cal.fits"
    assert stat.S_IMODE(cal.stat().st_mode) == stat.S_IMODE(report_path.stat().st_mode)


def test_report_names_the_crds_context_the_exposures_used(tmp_path, monkeypatch):
    """The toy's flat comes from a local CRDS cache: the context is the cache's."""
    from spec2.crds_cache import CONTEXT, LocalCache, crds_environment

    from .toy import ToyPlugin, flat_model

    flat = tmp_path / "toy_flat.fits"
    flat_model().save(str(flat))
    cache = LocalCache(tmp_path / "crds")
    cache.add("nirspec", "flat", ("META.INSTRUMENT.DETECTOR",), ("NRS1",), flat)
    cache.finish()
    for key, value in crds_environment(tmp_path / "crds").items():
        monkeypatch.setenv(key, value)
    rate = write_rate(tmp_path / "jw05_rate.fits")
    from stdatamodels.jwst import datamodels

    with datamodels.open(rate) as model:  # CRDS selects on the observation's date
        model.meta.observation.date, model.meta.observation.time = "2026-01-02", "00:00:00"
        model.save(rate)
    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    [result], report_path = process([rate], RunOptions(tmp_path / "out"), jobs=1, pm=pm)
    assert result.ok, result.error
    assert result.crds_context == CONTEXT
    report = json.loads(report_path.read_text())
    assert report["crds"]["context"] == CONTEXT and report["exposures"][0]["crds_context"] == CONTEXT
    assert report["crds"]["path"] == str((tmp_path / "crds").resolve()) and report["crds"]["mode"] == "local"


def test_a_warning_on_the_terminal_names_its_exposure(caplog):
    caplog.set_level(logging.INFO, logger="spec2")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ExposureFormatter("%(levelname)s %(message)s"))
    log = logging.getLogger("spec2")
    log.addHandler(handler)
    try:
        kept = []
        with capture("jw01", kept):
            log.warning("INT_TIMES not filled")
            log.info("flat_field COMPLETE")
        log.warning("outside any exposure")
    finally:
        log.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "WARNING jw01: INT_TIMES not filled", "INFO flat_field COMPLETE", "WARNING outside any exposure",
    ]
    assert kept == ["INT_TIMES not filled"]


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_crds_warnings_go_above_the_progress_line_and_into_the_exposure(capfd):
    from crds.core import log as crds_log  # installs CRDS's own console handler

    live = LiveProgress(TTY(), tick=0)
    spec2_log = logging.getLogger("spec2")
    saved = spec2_log.handlers[:], spec2_log.propagate
    spec2_log.handlers[:] = [live.handler(ExposureFormatter("%(message)s"))]
    spec2_log.propagate = False
    try:
        live.start(2)
        live.step("jw01", "assign_wcs")
        kept = []
        with library_messages_logged(), capture("jw01", kept):
            crds_log.warning("Calibration SW not found, defaulting to latest.")
            crds_log.info("Calibration SW Found: chatter")
        live.close()
    finally:
        spec2_log.handlers[:], spec2_log.propagate = saved
    out = live.stream.getvalue()
    # cleared the line, printed the message on its own line, drew the line again
    assert "\r\x1b[2KCRDS - WARNING" not in out
    assert "\r\x1b[2Kjw01: CRDS: Calibration SW not found, defaulting to latest.\n\r\x1b[2K0/2 exposures" in out
    assert "chatter" not in out
    assert kept == ["CRDS: Calibration SW not found, defaulting to latest."]
    # nothing reached the real terminal behind the display's back
    assert "Calibration SW" not in capfd.readouterr().err


def test_live_line_says_a_failure_once():
    live = LiveProgress(TTY(), tick=0)
    live.start(1)
    from spec2.pipeline import ExposureResult

    live.done(ExposureResult("jw01", error="jw01_rate.fits: toy failure"))
    live.close()
    assert live.stream.getvalue().count("toy failure") == 1


# -- through the command line, with worker processes -----------------------------------


@pytest.fixture
def installed_toy(tmp_path):
    """The warning toy installed as the ``spec2`` entry point ``warntoy`` in a folder of
    its own (worker processes find it from their PYTHONPATH); built-in plugins off."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(HERE / "warn_toy.py", site / "spec2_warntoy.py")
    dist = site / "spec2_warntoy-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: spec2-warntoy\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[spec2]\nwarntoy = spec2_warntoy:plugin\n")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRDS_") and k != "SPEC2_SCHEDULER"}
    return {**env, "PYTHONPATH": path, "SPEC2_DISABLE_PLUGINS": BUILT_IN}


def spec2(env, *args):
    return subprocess.run([sys.executable, "-m", "spec2.cli", "process", *map(str, args)],
                          capture_output=True, text=True, env=env, check=False)


# worker processes take some 15 s to start: the -j 2 runs are in the slow set
@pytest.mark.parametrize("jobs", [pytest.param("2", marks=pytest.mark.slow), "1"])
def test_cli_shows_each_warning_once_with_its_exposure(installed_toy, rates, tmp_path, jobs):
    out = tmp_path / "out"
    res = spec2(installed_toy, rates[0], rates[2], "-o", out, "-j", jobs)
    assert res.returncode == 0, res.stderr
    report = json.loads((out / "spec2_report.json").read_text())
    assert report["engine"] == ("2 local worker processes" if jobs == "2" else "this process")
    assert report["software"]["plugins"] == {"warntoy": "1.2.3"}
    for name in ("jw00", "jw02"):
        # on the terminal, once, with the exposure's name; and in the report
        assert res.stderr.count(f"WARNING {name}: {PHOTOM}") == 1, res.stderr
        assert res.stderr.count(f"{name}: UserWarning: INT_TIMES not filled in {name}_rate.fits") == 1, res.stderr
        [entry] = [e for e in report["exposures"] if e["name"] == name]
        assert entry["warnings"] == [PHOTOM, "2 source(s) centred off the detector dropped",
                                     f"UserWarning: INT_TIMES not filled in {name}_rate.fits"]


@pytest.mark.parametrize("jobs", [pytest.param("2", marks=pytest.mark.slow), "1"])
def test_cli_quiet_says_a_failure_once_and_keeps_warnings(installed_toy, rates, tmp_path, jobs):
    out = tmp_path / "out"
    res = spec2(installed_toy, *rates, "-o", out, "-j", jobs, "-q")
    assert res.returncode == 1
    # once: not also as a log record and a progress line
    assert [ln for ln in res.stderr.splitlines() if "jw01" in ln and "FAILED" in ln] == [
        f"FAILED jw01: {rates[1]}: RuntimeError: toy failure on purpose"], res.stderr
    assert res.stderr.count(f"jw00: {PHOTOM}") == 1  # -q keeps warnings
    report = json.loads((out / "spec2_report.json").read_text())
    assert [e["status"] for e in report["exposures"]] == ["ok", "failed", "ok"]
    assert PHOTOM in report["exposures"][1]["warnings"]
