"""`spec2 process` on bad input: one clear line each, non-zero exit, no products."""

import json
import subprocess
import sys

import pytest

from tests.core.toy import write_rate


def spec2(*args, cwd=None, env=None):
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "spec2.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=full_env,
    )


def failures(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("FAILED ")]


@pytest.fixture
def inputs(tmp_path):
    paths = {}
    paths["missing"] = tmp_path / "jw_missing_rate.fits"
    paths["text"] = tmp_path / "jw_text_rate.fits"
    paths["text"].write_text("SIMPLE? no, this is not FITS\n")
    paths["imaging"] = write_rate(tmp_path / "jw_image_rate.fits", exp_type="MIR_IMAGE")
    paths["soss"] = write_rate(tmp_path / "jw_soss_rate.fits", exp_type="NIS_SOSS")
    paths["lrs"] = write_rate(tmp_path / "jw_lrs_rate.fits", exp_type="MIR_LRS-FIXEDSLIT")
    return paths


def test_each_bad_input_one_line_nonzero_exit_no_products(inputs, tmp_path):
    out = tmp_path / "out"
    env = {"CRDS_PATH": "", "CRDS_SERVER_URL": ""}
    order = ["missing", "text", "imaging", "soss", "lrs"]
    res = spec2("process", *[inputs[k] for k in order], "-o", out, "-q", env=env)
    assert res.returncode == 1
    lines = failures(res.stderr)
    assert len(lines) == 5, res.stderr
    assert "no such file" in lines[0]
    assert "not a FITS file" in lines[1]
    assert "MIR_IMAGE is not a spectroscopic exposure" in lines[2]
    assert "no installed plugin calibrates EXP_TYPE=NIS_SOSS" in lines[3]
    assert "distortion" in lines[4] and "CRDS is not configured" in lines[4]
    assert "0 of 5 exposure(s) calibrated, 5 failed" in res.stderr
    # no product, only the run report, which records the five failures
    assert [p.name for p in out.iterdir()] == ["spec2_report.json"]
    report = json.loads((out / "spec2_report.json").read_text())
    assert [e["status"] for e in report["exposures"]] == ["failed"] * 5


def test_unknown_step_or_parameter_is_a_usage_error(inputs, tmp_path):
    res = spec2("process", inputs["lrs"], "--skip", "no_such_step")
    assert res.returncode == 2 and "unknown step 'no_such_step'" in res.stderr
    res = spec2("process", inputs["lrs"], "--set", "extract_1d.nope=1")
    assert res.returncode == 2 and "has no parameter 'nope'" in res.stderr
    res = spec2("process", inputs["lrs"], "--set", "extract_1d.apply_apcorr=maybe")
    assert res.returncode == 2 and "expected true or false" in res.stderr


def test_missing_override_file(inputs, tmp_path):
    # a usage error before any work (issue 13, item 8): no output folder, no report
    res = spec2("process", inputs["lrs"], "-o", tmp_path / "out", "--ref", "distortion=/no/such.asdf", "-q")
    assert res.returncode == 2
    assert "--ref distortion=/no/such.asdf: no such file" in res.stderr
    assert not (tmp_path / "out").exists()


def test_corrupt_association(tmp_path):
    asn = tmp_path / "bad_asn.json"
    asn.write_text("{ not json")
    res = spec2("process", asn, "-o", tmp_path / "out", "-q")
    assert res.returncode == 1
    assert "not a level-2 association" in res.stderr
