"""`spec2 process` on MOS exposures that cannot be calibrated: a missing or unreadable MSA
metadata file, an MSAMETID the file does not hold, a configuration with no open shutter on
the exposure's detector (exit status 64, as jwst's), and slitlets that fall off the
detector (dropped, logged). Each bad exposure fails on one line with nothing written; the
good exposure of the same run is calibrated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from astropy.io import fits


def spec2(*args, env):
    return subprocess.run([sys.executable, "-m", "spec2.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600, check=False)


def _variant(sim, folder, number, detector="nrs1", **keywords):
    """A copy of a simulated rate file (a new exposure number) with header changes, in
    its own folder with the simulation's MSA file."""
    folder.mkdir(exist_ok=True)
    if not (folder / sim["msa"].name).exists():
        shutil.copy(sim["msa"], folder)
    source = sim[(detector.upper(), 1)]
    path = folder / source.name.replace("_00001_", f"_0000{number}_")
    shutil.copy(source, path)
    with fits.open(path, mode="update") as hdul:
        for key, value in keywords.items():
            hdul[0].header[key] = value
    return path


@pytest.fixture(scope="module")
def mos_bad_inputs(tmp_path_factory):
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.mos import (
        default_configuration,
        simulate_mos,
        write_msa_file,
    )

    root = tmp_path_factory.mktemp("mos_bad")
    sim = simulate_mos(root / "data", LocalCache(root / "crds"))
    out = {"env": crds_environment(root / "crds"), "root": root, "good": sim[("NRS1", 1)],
           "nrs2": sim[("NRS2", 1)]}
    out["missing"] = _variant(sim, root / "missing", 2, MSAMETFL="jw01234005001_02_msa.fits")
    garbage = _variant(sim, root / "garbage", 3, MSAMETFL="jw01234005001_03_msa.fits")
    (garbage.parent / "jw01234005001_03_msa.fits").write_text("not FITS")
    out["garbage"] = garbage
    out["unknown_id"] = _variant(sim, root / "unknown_id", 4, MSAMETID=7)
    # a configuration of quadrants 1 and 2 only: its spectra miss NRS2
    left = [s for s in default_configuration() if s.quadrant in (1, 2)]
    nodata = _variant(sim, root / "nodata", 5, detector="nrs2", MSAMETFL="jw01234005001_05_msa.fits")
    write_msa_file(nodata.parent / "jw01234005001_05_msa.fits", left)
    out["nodata"] = nodata
    return out


def _failures(stderr):
    return {line.split(":")[0].split()[-1]: line for line in stderr.splitlines() if line.startswith("FAILED ")}


def test_bad_msa_files_fail_alone(mos_bad_inputs, tmp_path):
    d = mos_bad_inputs
    inputs = [d["good"], d["missing"], d["garbage"], d["unknown_id"]]
    res = spec2("process", *inputs, "-o", tmp_path, "-q", env=d["env"])
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    failed = _failures(res.stderr)
    stem = {k: d[k].name.replace("_rate.fits", "") for k in ("good", "missing", "garbage", "unknown_id")}
    assert set(failed) == {stem["missing"], stem["garbage"], stem["unknown_id"]}
    assert "jw01234005001_02_msa.fits (MSAMETFL) not found" in failed[stem["missing"]]
    assert "cannot be read as FITS" in failed[stem["garbage"]]
    assert "MSAMETID=7 is not in jw01234005001_01_msa.fits (it holds [1, 2])" in failed[stem["unknown_id"]]
    written = sorted(p.name for p in tmp_path.glob("*.fits"))
    assert written == [f"{stem['good']}_{kind}.fits" for kind in ("cal", "s2d", "x1d")]


def test_no_open_shutter_on_the_detector_exits_64(mos_bad_inputs, tmp_path):
    d = mos_bad_inputs
    res = spec2("process", d["good"], d["nodata"], "-o", tmp_path, "-q", env=d["env"])
    assert res.returncode == 64, res.stderr
    [line] = _failures(res.stderr).values()
    assert d["nodata"].name.replace("_rate.fits", "") in line and "falls on detector NRS2" in line
    assert len(list(tmp_path.glob("*_cal.fits"))) == 1


def test_slitlets_off_the_detector_are_dropped_and_logged(mos_bad_inputs, tmp_path):
    from stdatamodels.jwst import datamodels as dm

    d = mos_bad_inputs
    res = spec2("process", d["nrs2"], "-o", tmp_path, "-v", env=d["env"])
    assert res.returncode == 0, res.stderr
    dropped = [line for line in res.stderr.splitlines()
               if "does not reach detector NRS2: dropped" in line and "failed-open" not in line]
    with dm.open(tmp_path / d["nrs2"].name.replace("_rate", "_cal")) as cal:
        kept = {s.name for s in cal.slits}
    assert len(dropped) + len(kept) == 14  # the configuration's slitlets and fixed slit
    assert kept and all(f"slit {name} " not in " ".join(dropped) for name in kept)
