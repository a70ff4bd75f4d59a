"""`spec2 plot` and `spec2 compare` as a user runs them: PNGs written where asked, bad
products reported on one line while the others are drawn, the install hint without
matplotlib; compare's table, verdict, JSON file and exit status 0/1/2."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from spec2.cli import main
from tests.core import products as P


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_plot_writes_a_png_per_product_and_reports_the_bad_one(tmp_path):
    pytest.importorskip("matplotlib")
    x1d = P.make_x1d(tmp_path / "jw01_x1d.fits")
    s2d = P.make_s2d(tmp_path / "jw01_s2d.fits")
    bad = tmp_path / "jw02_x1d.fits"
    bad.write_text("not FITS")
    res = run("plot", x1d, bad, s2d, "-o", tmp_path / "look")
    assert res.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "look").iterdir()) == ["jw01_s2d.png", "jw01_x1d.png"]
    [line] = res.stderr.splitlines()
    assert line.startswith("spec2 plot: jw02_x1d.fits: not a JWST product")
    assert run("plot", x1d).exit_code == 0 and (tmp_path / "jw01_x1d.png").stat().st_size > 0


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    x1d = P.make_x1d(tmp_path / "jw01_x1d.fits")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    res = run("plot", x1d)
    assert res.exit_code == 2
    assert "pip install 'spec2[plot]'" in res.stderr
    assert not (tmp_path / "jw01_x1d.png").exists()


def test_compare_itself_agrees(tmp_path):
    x1d = P.make_x1d(tmp_path / "jw01_x1d.fits")
    res = run("compare", x1d, x1d)
    assert res.exit_code == 0
    assert res.stdout.splitlines()[-1].startswith("AGREE: ")


def test_compare_names_the_scaled_column_and_writes_json(tmp_path):
    from stdatamodels.jwst import datamodels

    ref = P.make_x1d(tmp_path / "jwst_x1d.fits")
    with datamodels.open(ref) as m:
        m.spec[0].spec_table["SURF_BRIGHT"] = 1.0
        m.save(ref)
        m.spec[0].spec_table["SURF_BRIGHT"] *= 1.02
        m.save(tmp_path / "spec2_x1d.fits")
    res = run("compare", tmp_path / "spec2_x1d.fits", ref, "--json", tmp_path / "out.json")
    assert res.exit_code == 1
    assert "spec S200A1 SURF_BRIGHT  values" in res.stdout
    assert res.stdout.splitlines()[-1] == "DIFFER: 1 of 37 items beyond rtol 1e-05, atol 0: spec S200A1 SURF_BRIGHT"
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["differences"][0]["where"] == "spec S200A1 SURF_BRIGHT"
    assert run("compare", tmp_path / "spec2_x1d.fits", ref, "--rtol", "0.021").exit_code == 0


def test_compare_different_kinds_exits_2(tmp_path):
    res = run("compare", P.make_x1d(tmp_path / "a_x1d.fits"), P.make_x1dints(tmp_path / "a_x1dints.fits"))
    assert res.exit_code == 2
    assert res.stdout.splitlines()[-1] == (
        "CANNOT COMPARE: different kinds: MultiSpecModel (x1d) vs TSOMultiSpecModel (x1dints)")
    assert run("compare", tmp_path / "a_x1d.fits", tmp_path / "missing.fits").exit_code == 2
