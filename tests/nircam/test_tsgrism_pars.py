"""The simulated NIRCam time series' CRDS cache delivers step parameters, as CRDS does for
time-series modes (issue 13, item 10): spec2 applies and records them unless told not to,
jwst finds the same file, and (the file repeating the extract1d reference's choice) the
products are those of a run without them, so the parity tests stand either way."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from .conftest import crds_env


def test_tso_pars_applied_recorded_and_neutral(tsgrism_sim, tsgrism_spec2, tmp_path):
    from stdatamodels.jwst import datamodels

    env = crds_env(tsgrism_sim)
    env.pop("STPIPE_DISABLE_CRDS_STEPPARS", None)  # jwst's default: apply them
    out = tmp_path / "with_pars"
    spec2 = str(Path(sys.executable).parent / "spec2")
    subprocess.run([spec2, "process", str(tsgrism_sim["tso"]), "-o", str(out), "-q"], env=env, check=True)
    [entry] = json.loads((out / "spec2_report.json").read_text())["exposures"]
    assert entry["crds_parameters"]["files"] == {
        "pars-extract1dstep": "crds://spec2sim_nircam_tsgrism_pars-extract1dstep.asdf"}
    assert entry["crds_parameters"]["applied"] == {"extract_1d.use_source_posn": False}

    # the fixture's run had them off (crds_environment sets STPIPE_DISABLE_CRDS_STEPPARS)
    [before] = json.loads((tsgrism_spec2 / "spec2_report.json").read_text())["exposures"]
    assert before["crds_parameters"] == {"disabled": True}
    name = f"{tsgrism_sim['stem']}_x1dints.fits"
    with datamodels.open(out / name) as a, datamodels.open(tsgrism_spec2 / name) as b:
        for sa, sb in zip(a.spec, b.spec, strict=True):
            np.testing.assert_array_equal(sa.spec_table["FLUX"], sb.spec_table["FLUX"])

    # jwst takes the same parameters from the same cache
    code = ("import sys; from stdatamodels.jwst import datamodels; from jwst.extract_1d import Extract1dStep;"
            "m = datamodels.open(sys.argv[1]);"
            "print(dict(Extract1dStep.get_config_from_reference(m, disable=False)).get('use_source_posn'))")
    res = subprocess.run([sys.executable, "-c", code, str(tsgrism_sim["tso"])], env=env, capture_output=True,
                         text=True, check=True)
    assert res.stdout.strip().splitlines()[-1] == "False"
