"""NIRSpec imprint subtraction: the MSA's imprint ("leakcal") exposure removed from an
exposure and from each of its association's background members.

An imprint exposure is taken with the MSA configured as for the science but the
light path closed to the sky, so it holds the light leaking through the MSA. It is
subtracted as is: SCI -= imprint SCI and DQ |= imprint DQ; ERR and the variances are
left as they are (jwst 3.0.0 does not propagate the imprint's noise).

Which imprint (jwst 3.0.0's rules): one imprint member is used for every exposure; with
several, MOS uses the first (jwst means to, but hands ImprintStep a bare file name and
fails; see docs/modes/nirspec-mos.md), and IFU uses the one whose background-target flag,
observation number and dither position match the exposure's, or else the only one with
a matching background-target flag; no such imprint: the exposure is left as it is.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

log = logging.getLogger("spec2")

#: EXP_TYPEs whose several imprint members mean "use the first" (jwst: MOS, IFU flat lamps)
FIRST_IMPRINT_ONLY = ("NRS_MSASPEC",)


@dataclass(frozen=True)
class Pointing:
    """What imprint matching compares: BKGDTARG, OBSERVTN and PATT_NUM."""

    background_target: bool | None
    observation: str | None
    position: int | None

    @classmethod
    def of(cls, model):
        return cls(model.meta.observation.bkgdtarg, model.meta.observation.observation_number,
                   model.meta.dither.position_number)


def choose_imprint(exposure: Pointing, imprints: list[Pointing]) -> int | None:
    """The index of the imprint to subtract from ``exposure``, or None when none fits.

    One imprint is always used. With several, only those with the exposure's background
    flag are candidates; the first with its observation and dither position wins, else
    the only candidate if there is exactly one.
    """
    if len(imprints) == 1:
        return 0
    candidates = [i for i, imp in enumerate(imprints) if imp.background_target == exposure.background_target]
    for i in candidates:
        imp = imprints[i]
        if imp.position == exposure.position and imp.observation == exposure.observation:
            return i
    return candidates[0] if len(candidates) == 1 else None


def subtract_imprint(model, imprint) -> None:
    """SCI -= imprint SCI, DQ |= imprint DQ, in place; InputError if their shapes differ."""
    if imprint.data.shape != model.data.shape:
        from spec2.errors import InputError

        raise InputError(f"imprint {imprint.meta.filename}: shape {imprint.data.shape} differs from "
                         f"{model.meta.filename}'s {model.data.shape}")
    model.data -= imprint.data
    model.dq |= imprint.dq


def open_member(member, what):
    """A member given as a path opened as its datamodel (InputError if it cannot be);
    a datamodel is returned as it is."""
    if not isinstance(member, (str, os.PathLike)):
        return member
    from stdatamodels.jwst import datamodels

    from spec2.errors import InputError
    from spec2.pipeline import native_byte_order

    try:
        model = datamodels.open(os.fspath(member))
    except Exception as exc:  # noqa: BLE001 -- whatever stdatamodels raises, the user gets one line
        raise InputError(f"{what} member {member}: cannot be read as a JWST datamodel ({exc})") from None
    if not hasattr(model, "data") or not hasattr(model, "dq"):
        raise InputError(f"{what} member {member}: is a {type(model).__name__}, not a rate exposure")
    native_byte_order(model)
    return model


def imprint_one(model, imprints, pointings) -> bool:
    """Subtract the imprint chosen for ``model`` in place; False (with a warning) if none fits."""
    index = choose_imprint(Pointing.of(model), pointings)
    if index is None:
        log.warning("no imprint matches %s (background target, observation, dither position); "
                    "it is left as it is", model.meta.filename)
        return False
    log.info("subtracting imprint %s from %s", imprints[index].meta.filename, model.meta.filename)
    subtract_imprint(model, imprints[index])
    return True


def imprint_exposure_and_backgrounds(model, members) -> bool:
    """The imprint step: subtract the matching imprint member from ``model`` and from
    each ``background`` member, which ``members`` then holds as imprint-subtracted
    datamodels (the runner hands them to bkg_subtract). Returns whether the science
    exposure had an imprint subtracted; raises StepSkipped when there is no imprint
    member."""
    from spec2.errors import StepSkipped

    paths = list(members.get("imprint", []))
    if not paths:
        raise StepSkipped("no imprint members in the association")
    if len(paths) > 1 and model.meta.exposure.type in FIRST_IMPRINT_ONLY:
        log.warning("%d imprint members for %s: using the first, %s", len(paths), model.meta.exposure.type,
                    os.path.basename(os.fspath(paths[0])) if isinstance(paths[0], (str, os.PathLike)) else paths[0])
        paths = paths[:1]
    imprints = [open_member(p, "imprint") for p in paths]
    pointings = [Pointing.of(m) for m in imprints]
    backgrounds = []
    for member in members.get("background", []):
        background = open_member(member, "background")
        if background is member:
            background = member.copy()  # a model handed in is not ours to change
        imprint_one(background, imprints, pointings)
        backgrounds.append(background)
    if "background" in members:
        members["background"] = backgrounds
    return imprint_one(model, imprints, pointings)
