"""`spec2 compare` and `spec2 plot` on real products: spec2's MIRI LRS products (nod pair
and slitless series) against jwst 3.0.0's on the same inputs agree within the default
tolerance, as the parity tests find; and each of them draws."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FINAL = ("_cal.fits", "_s2d.fits", "_x1d.fits", "_calints.fits", "_x1dints.fits")


def spec2(*args):
    return subprocess.run([str(Path(sys.executable).parent / "spec2"), *map(str, args)],
                          check=False, capture_output=True, text=True)


def test_spec2_and_jwst_lrs_products_compare_equal_and_plot(jwst_products, spec2_products, tmp_path):
    pytest.importorskip("matplotlib")
    theirs = sorted(p for p in Path(jwst_products).iterdir() if p.name.endswith(FINAL))
    assert len(theirs) == 8  # two nods x (cal, s2d, x1d), the series' calints and x1dints
    for product in theirs:
        mine = Path(spec2_products) / product.name
        res = spec2("compare", mine, product)
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stdout.splitlines()[-1].startswith("AGREE: ")
    res = spec2("plot", *[Path(spec2_products) / p.name for p in theirs], "-o", tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(p.stem + ".png" for p in theirs)
