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


def as_exp_type(part, exp_type):
    """Make a group's model (in place) one of ``exp_type``, it and each of its slits, as
    jwst marks the fixed slits of an MSA exposure before calibrating them."""
    part.meta.exposure.type = exp_type
    for slit in part.slits:
        # a slit made in memory has no exposure node yet (one read from a file has)
        slit.meta.instance.setdefault("exposure", {})["type"] = exp_type


def merge_slits(model, parts, stepdefs):
    """The groups' slits in one MultiSlitModel (or, when every group made an extracted
    product, their spectra in one MultiSpecModel), in the order of ``parts``, with the
    metadata of the first part and the EXP_TYPE of ``model`` (a group may have been
    calibrated as another type). Each step's status keyword is COMPLETE when the step
    completed on any group, else FAILED or SKIPPED as it was recorded."""
    from stdatamodels.jwst.datamodels import MultiSlitModel, MultiSpecModel

    spectra = bool(parts) and all(hasattr(p, "spec") and not hasattr(p, "slits") for p in parts)
    merged = MultiSpecModel() if spectra else MultiSlitModel()
    merged.update(parts[0] if parts else model)
    merged.meta.exposure.type = model.meta.exposure.type
    for part in parts:
        for item in (part.spec if spectra else part.slits):
            (merged.spec if spectra else merged.slits).append(item)
    for keyword in {k for stepdef in stepdefs for k in stepdef.status_keywords}:
        statuses = [getattr(p.meta.cal_step, keyword, None) for p in parts]
        statuses = [s for s in statuses if s]
        if statuses:
            best = min(statuses, key=lambda s: _ORDER.index(s) if s in _ORDER else len(_ORDER))
            setattr(merged.meta.cal_step, keyword, best)
    return merged
