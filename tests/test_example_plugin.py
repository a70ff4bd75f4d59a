"""A third-party plugin installed with pip is loaded through its entry point and used.

The example plugin is pip-installed into a folder of its own (``--target``) and put on
the path of this test only (and of the CLI it starts), never into the running
environment: other tests keep seeing the built-in plugins alone."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "example_plugin"


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory):
    """The example plugin package installed into a folder of its own."""
    target = tmp_path_factory.mktemp("example_plugin")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(EXAMPLE)],
        check=True,
    )
    return target


@pytest.fixture
def example_on_path(example_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(example_dir))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(example_dir), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("SPEC2_DISABLE_PLUGINS", "")
    importlib.invalidate_caches()
    return example_dir


def test_entry_point_loads_and_lists(example_on_path):
    out = subprocess.run(
        [sys.executable, "-m", "spec2.cli", "plugins"], capture_output=True, text=True, check=True
    ).stdout
    assert "example_outliers 0.1.0" in out
    assert "entry point example_outliers = spec2_example_outliers.plugin" in out
    assert "MIR_LRS-FIXEDSLIT: steps outlier_flag" in out  # a step claimed, the mode left to MIRI
    assert "miri" in out and "MIR_LRS-FIXEDSLIT: recipe + " in out
    steps = subprocess.run(
        [sys.executable, "-m", "spec2.cli", "steps", "outlier_flag"], capture_output=True, text=True, check=True
    ).stdout
    assert "threshold" in steps and "MIR_LRS-FIXEDSLIT    plugin example_outliers" in steps


def test_recipe_extended_by_a_wrapper_and_hook_called(example_on_path):
    from stdatamodels.jwst import datamodels

    from spec2.plugins import get_plugin_manager, recipe_caller, step_caller, step_definitions

    pm = get_plugin_manager()
    assert pm.get_plugin("example_outliers") is not None

    def recipe(exp_type, multi_int):
        return recipe_caller(pm, exp_type)(exp_type=exp_type, multi_int=multi_int, meta=None, input_dir=None)

    steps = list(recipe("MIR_LRS-FIXEDSLIT", False).steps)
    assert steps[steps.index("flat_field") + 1] == "outlier_flag"
    assert "outlier_flag" in step_definitions(pm)
    # slitless is left to MIRI untouched
    assert "outlier_flag" not in recipe("MIR_LRS-SLITLESS", True).steps

    flag = step_caller(pm, "outlier_flag", "MIR_LRS-FIXEDSLIT")
    model = datamodels.SlitModel(np.ones((20, 30), dtype=np.float32))
    model.err = np.full((20, 30), 0.01, dtype=np.float32)
    model.dq = np.zeros((20, 30), dtype=np.uint32)
    model.data[10, 15] = 5.0  # 400 sigma
    model.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    out = flag(model=model, params={"threshold": 5.0, "window": 5})
    assert np.isnan(out.data[10, 15]) and out.dq[10, 15] & 1
    assert np.isfinite(out.data).sum() == 20 * 30 - 1

    # a point-source trace (narrow across x, smooth along the dispersion y) is kept
    trace = datamodels.SlitModel(np.exp(-0.5 * ((np.arange(30) - 15) / 1.2) ** 2)[None, :] * np.ones((20, 1), np.float32))
    trace.err = np.full((20, 30), 0.001, dtype=np.float32)
    trace.dq = np.zeros((20, 30), dtype=np.uint32)
    trace.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    trace.meta.wcsinfo.dispersion_direction = 2
    out = flag(model=trace, params={"threshold": 5.0, "window": 5})
    assert np.isfinite(out.data).all()


def test_disabled_by_name(example_on_path):
    from spec2.plugins import get_plugin_manager

    pm = get_plugin_manager(disabled=["example_outliers"])
    assert pm.get_plugin("example_outliers") is None
    assert get_plugin_manager().get_plugin("example_outliers") is not None


def test_not_installed_in_the_running_environment():
    import importlib.metadata

    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("spec2-example-outliers")
