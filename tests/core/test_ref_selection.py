"""References selected in the driver before a run on workers: the worker gets them with
the exposure and never asks CRDS; a CRDS that cannot be used fails each exposure that
needs it with one line (tests/cli/test_environment.py, in fresh processes: the crds
client keeps state in the process). Uses the toy plugin and a one-file local CRDS cache."""

import pytest

from spec2.association import Exposure
from spec2.crds_cache import LocalCache, crds_environment
from spec2.errors import ReferenceFileError
from spec2.pipeline import RunOptions, calibrate_exposure
from spec2.plugins import get_plugin_manager, step_definitions
from spec2.ref_selection import select_references
from spec2.refs import RefResolver

from .toy import ToyPlugin, flat_model, write_rate


def dated_rate(path, **kw):
    """A toy rate file with the observation date CRDS's UseAfter selects on."""
    from stdatamodels.jwst import datamodels

    write_rate(path, **kw)
    with datamodels.open(path) as model:
        model.meta.observation.date = "2024-01-01"
        model.meta.observation.time = "00:00:00"
        model.save(path)
    return path


@pytest.fixture
def cache(tmp_path):
    """A local CRDS cache whose NIRSpec flat matches fixed-slit exposures only."""
    flat = tmp_path / "jwst_nirspec_flat_0001.fits"
    flat_model().save(str(flat))
    local = LocalCache(tmp_path / "crds")
    local.add("nirspec", "flat", ("META.EXPOSURE.TYPE",), ("NRS_FIXEDSLIT",), flat)
    return local.finish()


@pytest.fixture
def crds_env(cache, monkeypatch):
    for key, value in crds_environment(cache).items():
        monkeypatch.setenv(key, value)
    return cache


def test_driver_selects_and_the_run_never_asks_crds(tmp_path, crds_env, monkeypatch):
    toy = ToyPlugin()
    pm = get_plugin_manager([toy], load_entrypoints=False)
    opts = RunOptions(tmp_path / "out")
    exposure = Exposure("jw01", dated_rate(tmp_path / "jw01_rate.fits"))
    [selected], failed = select_references(pm, [exposure], opts)
    assert failed == {}
    assert selected.references.paths["flat"].endswith("jwst_nirspec_flat_0001.fits")
    assert selected.references.context == "jwst_0001.pmap"
    # as a worker: CRDS unusable from here on, the selection is all it has
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CRDS_SERVER_URL", "")
    result = calibrate_exposure(pm, selected, opts, step_definitions(pm))
    assert result.ok, result.error
    [flat_step] = [s for s in result.steps if s.name == "flat_field"]
    assert flat_step.references == {"flat": "crds://jwst_nirspec_flat_0001.fits"}
    from stdatamodels.jwst import datamodels

    with datamodels.open(result.products[0]) as cal:
        assert cal.meta.ref_file.flat.name == "crds://jwst_nirspec_flat_0001.fits"
        assert cal.meta.ref_file.crds.context_used == "jwst_0001.pmap"


def test_a_type_crds_has_no_file_for_fails_only_when_a_step_asks(tmp_path, crds_env):
    rate = dated_rate(tmp_path / "jw02_rate.fits", exp_type="NRS_BRIGHTOBJ")
    from stdatamodels.jwst import datamodels

    model = datamodels.open(rate)
    selection = RefResolver(model).select(["flat"])
    assert selection.paths == {} and "no flat reference file" in selection.errors["flat"]
    refs = RefResolver(None, selection=selection)
    with pytest.raises(ReferenceFileError, match="no flat reference file"):
        refs.path("flat")
    # a type no claim declared is looked up as in one process (the cache says N/A)
    refs = RefResolver(model, selection=selection)
    assert refs.path("photom") is None and refs.used == {"photom": "N/A"}
    model.close()


def test_overridden_types_are_not_selected(tmp_path, crds_env):
    selection = RefResolver(None, {"flat": "N/A"}).select(["flat"])
    assert selection.paths == {} and selection.errors == {}

