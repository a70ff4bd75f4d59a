"""Splitting a multi-slit model into groups of slits and merging them back: what a
recipe's :class:`spec2.recipe.SlitGroups` entry does between its groups' steps (MOS
slitlets and the fixed slits of one MSA exposure are calibrated by different rules,
then resampled and extracted together)."""

from __future__ import annotations

import logging

log = logging.getLogger("spec2")

_ORDER = ("COMPLETE", "FAILED", "SKIPPED")


def split_slits(model, selectors) -> list:
    """One MultiSlitModel per selector (slit -> bool) holding the slits it selects, with
    the model's metadata; None for a group that selects no slit. A slit goes to the first
    group that selects it; slits no group selects are dropped with a warning."""
    from stdatamodels.jwst.datamodels import MultiSlitModel

    taken = [[] for _ in selectors]
    for slit in model.slits:
        for i, select in enumerate(selectors):
            if select(slit):
                taken[i].append(slit)
                break
        else:
            log.warning("slit %s is in no slit group of the recipe: dropped", slit.name)
    parts = []
    for slits in taken:
        if not slits:
            parts.append(None)
            continue
        part = MultiSlitModel()
        part.update(model)
        for slit in slits:
            part.slits.append(slit)
        parts.append(part)
    return parts


def merge_slits(model, parts, stepdefs):
    """The groups' slits in one MultiSlitModel, in the order of ``parts``, with the
    metadata of the first part. Each step's status keyword is COMPLETE when the step
    completed on any group, else FAILED or SKIPPED as it was recorded."""
    from stdatamodels.jwst.datamodels import MultiSlitModel

    merged = MultiSlitModel()
    merged.update(parts[0] if parts else model)
    for part in parts:
        for slit in part.slits:
            merged.slits.append(slit)
    for stepdef in stepdefs:
        if not stepdef.cal_step:
            continue
        statuses = [getattr(p.meta.cal_step, stepdef.cal_step, None) for p in parts]
        statuses = [s for s in statuses if s]
        if statuses:
            best = min(statuses, key=lambda s: _ORDER.index(s) if s in _ORDER else len(_ORDER))
            setattr(merged.meta.cal_step, stepdef.cal_step, best)
    return merged
