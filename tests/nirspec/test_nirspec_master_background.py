"""The NIRSpec plugin's part of the core's master_background_mos: its hook passes MOS's
chain of invertible steps, and its claim declares the references they open. (Parity on
simulated MOS data comes with the MOS recipe.)"""

from __future__ import annotations

import numpy as np
from stdatamodels.jwst import datamodels


def test_nirspec_master_background_hands_its_chain_to_the_core(monkeypatch):
    """The NIRSpec hook is the core step with MOS's chain (flat_field, pathloss,
    barshadow, photom: jwst's sub-steps), and its claim declares the references the
    sub-steps open (checked under SPEC2_STRICT_CLAIMS)."""
    from spec2.plugins import claims_of, get_plugin_manager
    from spec2_nirspec import hooks

    seen = {}

    def fake(model, refs, params, pm, chain, extra_products=None, members=None, input_dir=None, step_params=None):
        seen.update(chain=chain, params=params, extra=extra_products, step_params=step_params)
        return model

    monkeypatch.setattr("spec2.steps.master_background_mos.subtract_master_background", fake)
    model, extra = datamodels.ImageModel(np.zeros((2, 2), np.float32)), {}
    assert hooks.master_background_mos(model, None, {"x": 1}, {}, None, None, extra, len) is model
    assert seen == {"chain": ("flat_field", "pathloss", "barshadow", "photom"), "params": {"x": 1}, "extra": extra,
                    "step_params": len}
    claims = claims_of(get_plugin_manager([hooks], load_entrypoints=False))
    assert claims.owner("NRS_MSASPEC", "master_background_mos") == claims.owner("NRS_MSASPEC", "imprint_subtract")
    declared = set(claims.reftypes[("NRS_MSASPEC", "master_background_mos")])
    assert {"fflat", "sflat", "dflat", "pathloss", "barshadow", "photom", "area", "extract1d"} <= declared
