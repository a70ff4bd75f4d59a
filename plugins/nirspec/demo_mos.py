"""The MOS case of ``spec2 demo``: a small simulated MSA visit (two nod points and an
imprint exposure, in a spec2 association) whose extracted point-source spectrum (the
``_x1d`` of each nod product) is checked against the injected one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# the source judged: slitlet 1 of the default configuration, a 1x3 slitlet whose point
# source sits off-centre in its shutter (wavecorr, the point-source path loss and the
# extraction box moved onto the source all matter)
DEMO_SLITLET = 1


def mos_demo_case(directory, cache):
    """Simulate the visit on NRS1 (references into ``cache``) and describe the case."""
    from spec2_nirspec.sim.mos import simulate_mos

    sim = simulate_mos(Path(directory) / "nirspec_mos", cache, detectors=("NRS1",), dithers=(1, 2), imprint=True)
    return judged_case([sim[("asn", "NRS1")]], len(sim["slitlets"]))


def judged_case(inputs, n_slitlets):
    """The case on ``inputs`` (the visit's association): slitlet DEMO_SLITLET's source
    against its injected spectrum where its spectrum falls on NRS1, within 2 %."""
    from spec2.demo import DemoCase
    from spec2_nirspec.sim.mos import default_configuration, point_flux

    planned = next(s for s in default_configuration() if s.slitlet_id == DEMO_SLITLET)
    wl = np.linspace(1.5, 3.3, 4000)
    return DemoCase(
        name="NIRSpec MOS",
        description=(f"G235M/F170LP, {n_slitlets} slitlets, two nod points and an imprint; "
                     f"the off-centre point source of slitlet {DEMO_SLITLET} in each nod product's _x1d"),
        inputs=list(inputs), truth_wavelength=wl, truth_flux=point_flux(planned, wl) * 1e6,
        wavelength_range=(2.15, 3.1), source_id=planned.source_id, tolerance=0.02)
