"""How inputs become exposures: the README's batch pattern (``*_rate.fits *_asn.json``),
where a file is given both bare and as an association's science member, and a folder
given as an input. Uses the in-memory toy plugin."""

import json
import logging

import pytest

from spec2.association import (
    Exposure,
    FailedInput,
    expand_inputs,
    write_nod_association,
)
from spec2.batch import process, unique_exposures
from spec2.errors import Spec2Error
from spec2.pipeline import RunOptions
from spec2.plugins import get_plugin_manager

from .toy import ToyPlugin, flat_model, hookimpl, write_rate


class NeedsBackground(ToyPlugin):
    """A mode that cannot be calibrated without its association's members (as NIRISS
    WFSS without its source catalog): the bare file fails."""

    @hookimpl
    def background(self, model, members):
        self._record("bkg_subtract")
        if not members.get("background"):
            raise Spec2Error("no background member: give the association")
        self.members = members
        return model


@pytest.fixture
def nods(tmp_path):
    """Two nods, each the other's background, and their association (product names are
    the rate files' roots, as in jwst's associations and the demo)."""
    data = tmp_path / "data"
    data.mkdir()
    rates = [write_rate(data / f"jw01_0310{i}_mirimage_rate.fits", value=float(i)) for i in (1, 2)]
    names = [p.name.removesuffix("_rate.fits") for p in rates]
    asn = write_nod_association(data / "jw01-a3001_spec2_00001_asn.json", rates, names)
    return rates, asn


def run(tmp_path, inputs, plugin):
    pm = get_plugin_manager([plugin], load_entrypoints=False)
    opts = RunOptions(tmp_path / "out", overrides={"flat": flat_model()})
    return process(inputs, opts, jobs=1, pm=pm)


@pytest.mark.parametrize("order", ["rates first", "association first"])
def test_readme_pattern_makes_the_association_products(tmp_path, nods, order, caplog):
    rates, asn = nods
    inputs = [*rates, asn] if order == "rates first" else [asn, *rates]
    plugin = NeedsBackground()
    with caplog.at_level(logging.INFO, logger="spec2"):
        results, report_path = run(tmp_path, inputs, plugin)
    # both nods calibrated once each, with their partner as background: the failing
    # bare duplicates never ran and never blocked the association
    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    assert all(r.association and r.association.endswith(asn.name) for r in results)
    assert plugin.calls.count("bkg_subtract") == 2
    report = json.loads(report_path.read_text())
    assert [e["status"] for e in report["exposures"]] == ["ok", "ok"]
    said = [m for m in caplog.messages if "also the science member" in m]
    assert len(said) == 2 and all(asn.name in m for m in said)
    assert sorted(said) == sorted(set(said))  # each bare duplicate said once


def test_folder_input_means_its_associations_and_rate_files(tmp_path, nods):
    rates, asn = nods
    (asn.parent / "notes.txt").write_text("not an input")
    found = expand_inputs([asn.parent])
    assert sorted(j.science.name for j in found) == sorted([r.name for r in rates] * 2)
    results, _ = run(tmp_path, [asn.parent], NeedsBackground())
    assert [r.ok for r in results] == [True, True]
    assert all(r.association for r in results)


def test_empty_folder_is_a_failed_input(tmp_path):
    (tmp_path / "empty").mkdir()
    [job] = expand_inputs([tmp_path / "empty"])
    assert isinstance(job, FailedInput) and "no association" in str(job.error)


def test_association_wins_a_product_name_over_a_bare_file(tmp_path, nods):
    rates, asn = nods
    other = write_rate(tmp_path / f"{rates[0].name}")  # same name, another folder
    bare = Exposure(rates[0].name.removesuffix("_rate.fits"), other)
    out = unique_exposures([bare, *expand_inputs([asn])])
    assert isinstance(out[0], FailedInput)
    msg = str(out[0].error)
    assert str(other) in msg and "already used by" in msg and asn.name in msg
    assert [j.source for j in out[1:]] == [asn, asn]


def test_one_science_file_in_two_associations_with_other_members(tmp_path, nods):
    rates, asn = nods
    other = asn.parent / "jw01-a3002_spec2_00001_asn.json"
    doc = json.loads(asn.read_text())
    doc["products"][0]["members"] = doc["products"][0]["members"][:1]  # no background
    other.write_text(json.dumps(doc))
    out = unique_exposures(expand_inputs([asn, other]))
    failed = [j for j in out if isinstance(j, FailedInput)]
    assert len(failed) == 1
    msg = str(failed[0].error)
    # names the file once, and both associations
    assert msg.count(rates[0].name) == 1 and other.name in msg and asn.name in msg
