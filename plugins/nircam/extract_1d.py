"""NIRCam grism time-series extract_1d: every integration of the ``_calints`` cut-out
box-extracted into one ``_x1dints`` table by the shared slit extraction
(``spec2.steps.extract_slit``), as jwst 3.0.0's Extract1dStep does for NRC_TSGRISM.

What is NIRCam's own: dispersion runs along rows; the aperture is the extract1d one
named NRC_TSGRISM; there is no source position to track (the target sits where it was
acquired) and no aperture correction.
"""

from __future__ import annotations

from spec2.algorithms import extract1d as ex
from spec2.steps.extract_slit import SlitMode, extract_slits

TSGRISM = SlitMode("grism time series", ex.HORIZONTAL)


def extract_tsgrism(model, ref, *, subtract_background=None, bkg_fit=None, bkg_order=None,
                    smoothing_length=None, position_offset=0.0, use_source_posn=None):
    """Extract a TSGRISM SlitModel into a new TSOMultiSpecModel (3-D data; 2-D data gives
    a MultiSpecModel); see ``spec2.steps.extract_slit.extract_slits``. The input model is
    not modified."""
    return extract_slits(model, ref, None, TSGRISM, use_source_posn=use_source_posn,
                         subtract_background=subtract_background, bkg_fit=bkg_fit, bkg_order=bkg_order,
                         smoothing_length=smoothing_length, position_offset=position_offset)
