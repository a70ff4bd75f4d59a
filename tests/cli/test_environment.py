"""`spec2 process` in a broken environment: an output folder that cannot be created or
written, and a CRDS cache that cannot be used. One line, exit 1, no traceback, and no
calibration done in vain."""

import os
import subprocess
import sys

import pytest

from spec2.batch import check_output_dir, process
from spec2.errors import OutputError
from spec2.pipeline import RunOptions
from spec2.plugins import get_plugin_manager
from tests.core.toy import ToyPlugin, flat_model, write_rate


def spec2(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "spec2.cli", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=timeout, check=False)


# -- the output folder ------------------------------------------------------------------


def test_output_folder_under_a_file_is_one_line_before_any_work(tmp_path):
    rate = write_rate(tmp_path / "jw01_rate.fits", exp_type="MIR_LRS-FIXEDSLIT")
    (tmp_path / "afile").write_text("x")
    res = spec2("process", rate, "-o", tmp_path / "afile" / "out", "-q")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("spec2: ") and "cannot create the output folder" in line
    assert "afile" in line


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_output_dir(tmp_path / "out")


def test_unwritable_output_folder_stops_the_run_before_calibration(tmp_path, monkeypatch):
    """As for an existing read-only folder (simulated: the tests may run as root, who
    may write anywhere): nothing is calibrated, and the error says why."""
    import tempfile

    out = tmp_path / "out"
    out.mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    toy = ToyPlugin()
    pm = get_plugin_manager([toy], load_entrypoints=False)
    with pytest.raises(OutputError, match="cannot write in the output folder: Permission denied"):
        process([write_rate(tmp_path / "jw01_rate.fits")], RunOptions(out, overrides={"flat": flat_model()}), pm=pm)
    assert toy.calls == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_read_only_output_folder_from_the_command_line(tmp_path):
    rate = write_rate(tmp_path / "jw01_rate.fits", exp_type="MIR_LRS-FIXEDSLIT")
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        res = spec2("process", rate, "-o", out, "-q")
    finally:
        out.chmod(0o755)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "cannot write in the output folder" in res.stderr


# -- CRDS that cannot be used --------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_unusable_crds_is_one_line_exit_1_and_a_report(tmp_path, jobs):
    """An empty CRDS_PATH and no server: the crds client exits its process (status 255,
    or a KilledWorker per exposure after 30 s on workers). Now each exposure fails with
    the one-line reason, the summary and the report are written, and no worker starts
    (the references are selected in the driver), so -j 2 ends in seconds."""
    import json

    (tmp_path / "crds").mkdir()
    rates = [write_rate(tmp_path / f"jw0{i}_rate.fits", exp_type="MIR_LRS-FIXEDSLIT") for i in (1, 2)]
    out = tmp_path / "out"
    env = {"CRDS_PATH": str(tmp_path / "crds"), "CRDS_SERVER_URL": "", "CRDS_MODE": "auto"}
    res = spec2("process", *rates, "-o", out, "-j", jobs, "-q", env=env, timeout=25)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr and "KilledWorker" not in res.stderr
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("FAILED ")]
    assert len(failed) == 2
    assert all("CRDS cannot be used" in ln and str(tmp_path / "crds") in ln for ln in failed)
    assert "0 of 2 exposure(s) calibrated, 2 failed" in res.stderr
    report = json.loads((out / "spec2_report.json").read_text())
    assert [e["status"] for e in report["exposures"]] == ["failed", "failed"]
    assert all(e["error"].startswith("CRDS cannot be used") for e in report["exposures"])
