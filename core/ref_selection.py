"""Select every exposure's reference files in the driver, before any worker starts.

With many exposures on workers, each worker would otherwise ask CRDS for its exposures'
references as their steps run: every worker loads the CRDS mappings again, and a CRDS that
cannot be used (the client then exits the process) kills every worker, one exposure after
another. Here the driver reads each exposure's header, finds its recipe, and selects, in
one CRDS query per exposure, every reference type its steps' claims declare (apart from
``--ref`` overrides), and one more for each slit group calibrated as another exposure
type, as that type. The worker gets the result (:class:`spec2.refs.Selection`) with the
exposure and only reads files from the cache.

A type CRDS has no file for is kept as that type's error, raised only if a step asks for
it (as in a run in one process). An exposure whose header cannot be read or whose mode no
plugin calibrates is left as it is: its run reports that. A CRDS that cannot be used at
all fails, at once and with one line, every exposure that needs it.
"""

from __future__ import annotations

import dataclasses
import logging

log = logging.getLogger("spec2")


def declared_reftypes(pm, recipe, exp_type) -> dict[str, list[str]]:
    """{EXP_TYPE: the reference types the steps run as that type declare, in order} for
    an exposure of ``exp_type``: its own type first, then the types of the slit groups
    calibrated as another (their references are selected as that type)."""
    from spec2.plugins import claims_of

    claims = claims_of(pm)
    found: dict[str, dict[str, None]] = {exp_type: {}}
    for step, as_type in recipe.typed_steps(exp_type):
        found.setdefault(as_type, {}).update(dict.fromkeys(claims.reftypes.get((as_type, step), ())))
    return {t: list(v) for t, v in found.items()}


def select_for_exposure(pm, exposure, options, stepdefs):
    """The Selection for one exposure, or None when its run is to report why it cannot
    run (unreadable input, unsupported mode). Raises CrdsUnusable."""
    from stdatamodels.jwst import datamodels

    from spec2.pipeline import check_recipe, find_recipe, input_folder
    from spec2.refs import CrdsUnusable, RefResolver

    try:
        model = datamodels.open(exposure.science)  # the header is what selects
    except Exception:  # noqa: BLE001  (any unreadable input: its run says why, as usual)
        return None
    try:
        exp_type = model.meta.exposure.type
        recipe = find_recipe(pm, model, exposure.science, input_folder(exposure))
        check_recipe(pm, recipe, exp_type, stepdefs)
        by_type = declared_reftypes(pm, recipe, exp_type)
        reftypes = by_type.pop(exp_type)
        if options.crds_steppars:  # the CRDS parameter references the worker will read too
            from spec2.crds_pars import pars_reftypes

            reftypes += list(pars_reftypes(recipe.steps))
        selection = RefResolver(model, options.overrides).select(reftypes)
        for as_type, types in by_type.items():  # slit groups calibrated as another type
            selection.by_exp_type[as_type] = RefResolver(model, options.overrides, exp_type=as_type).select(types)
        return selection
    except CrdsUnusable:
        raise
    except Exception:  # noqa: BLE001  (its run reports it, with its usual message)
        return None
    finally:
        model.close()


def select_references(pm, exposures, options):
    """([exposures with their Selection], {index: error text}) for a run on workers.

    An exposure that needs CRDS when CRDS cannot be used is returned as an error, which
    is logged once for the run."""
    from spec2.plugins import step_definitions
    from spec2.refs import CrdsUnusable

    stepdefs = step_definitions(pm)
    selected, failed = [], {}
    said = False
    for index, exposure in enumerate(exposures):
        try:
            selection = select_for_exposure(pm, exposure, options, stepdefs)
        except CrdsUnusable as exc:
            if not said:
                log.error("%s", exc)
                said = True
            failed[index] = str(exc)
            selected.append(exposure)
            continue
        selected.append(dataclasses.replace(exposure, references=selection) if selection else exposure)
    return selected, failed
