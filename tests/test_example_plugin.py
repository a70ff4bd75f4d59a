"""A third-party plugin installed with pip is loaded through its entry point and used."""

import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "example_plugin"


@pytest.fixture(scope="module")
def installed_example():
    """pip-install the example plugin package into this very environment."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", str(EXAMPLE)],
        check=True,
    )
    importlib.invalidate_caches()
    return importlib.metadata.distribution("spec2-example-outliers")


def test_entry_point_loads_and_lists(installed_example, monkeypatch):
    monkeypatch.setenv("SPEC2_DISABLE_PLUGINS", "")
    out = subprocess.run(
        [sys.executable, "-m", "spec2.cli", "plugins"], capture_output=True, text=True, check=True
    ).stdout
    assert "example_outliers 0.1.0" in out
    assert "entry point example_outliers = spec2_example_outliers.plugin" in out
    assert "outlier_flag" in out
    assert "miri" in out and "MIR_LRS-FIXEDSLIT" in out


def test_recipe_extended_and_hook_called(installed_example, monkeypatch):
    monkeypatch.setenv("SPEC2_DISABLE_PLUGINS", "")
    from stdatamodels.jwst import datamodels

    from spec2.plugins import get_plugin_manager, step_definitions

    pm = get_plugin_manager()
    assert pm.get_plugin("example_outliers") is not None
    recipe = pm.hook.spec2_recipe(exp_type="MIR_LRS-FIXEDSLIT", multi_int=False)
    steps = list(recipe.calibrate)
    assert steps[steps.index("flat_field") + 1] == "outlier_flag"
    assert "outlier_flag" in step_definitions(pm)
    # slitless is left to MIRI untouched
    assert "outlier_flag" not in pm.hook.spec2_recipe(exp_type="MIR_LRS-SLITLESS", multi_int=True).calibrate

    model = datamodels.SlitModel(np.ones((20, 30), dtype=np.float32))
    model.err = np.full((20, 30), 0.01, dtype=np.float32)
    model.dq = np.zeros((20, 30), dtype=np.uint32)
    model.data[10, 15] = 5.0  # 400 sigma
    model.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    out = pm.hook.outlier_flag(model=model, params={"threshold": 5.0, "window": 5})
    assert np.isnan(out.data[10, 15]) and out.dq[10, 15] & 1
    assert np.isfinite(out.data).sum() == 20 * 30 - 1

    # a point-source trace (narrow across x, smooth along the dispersion y) is kept
    trace = datamodels.SlitModel(np.exp(-0.5 * ((np.arange(30) - 15) / 1.2) ** 2)[None, :] * np.ones((20, 1), np.float32))
    trace.err = np.full((20, 30), 0.001, dtype=np.float32)
    trace.dq = np.zeros((20, 30), dtype=np.uint32)
    trace.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    trace.meta.wcsinfo.dispersion_direction = 2
    out = pm.hook.outlier_flag(model=trace, params={"threshold": 5.0, "window": 5})
    assert np.isfinite(out.data).all()


def test_disabled_by_name(installed_example, monkeypatch):
    from spec2.plugins import get_plugin_manager

    pm = get_plugin_manager(disabled=["example_outliers"])
    assert pm.get_plugin("example_outliers") is None
