"""srctype: decide whether the target is a point source or extended (SRCTYPE).

Single-target modes take, in priority order: the step's ``source_type`` parameter; a
background target (BKGDTARG) is EXTENDED; a time series (TSOVISIT, more than one
integration) is POINT; the APT choice SRCTYAPT (or an existing SRCTYPE) when it is POINT
or EXTENDED; a nod or point-source dither pattern is POINT; otherwise the mode's default.
"""

from __future__ import annotations

VALID = ("POINT", "EXTENDED")


def decide_source_type(user_param, bkgdtarg, is_tso, apt_value, dither_pattern, default="POINT"):
    """Pure decision rule; returns (source_type, reason)."""
    if user_param:
        value = str(user_param).upper()
        if value not in VALID:
            from spec2.errors import InputError

            raise InputError(f"srctype.source_type must be POINT or EXTENDED, not {user_param!r}")
        return value, "requested"
    if bkgdtarg:
        return "EXTENDED", "background target"
    if is_tso:
        return "POINT", "time series"
    if apt_value in VALID:
        return apt_value, "APT (SRCTYAPT)"
    if dither_pattern and ("NOD" in dither_pattern or "POINT-SOURCE" in dither_pattern):
        return "POINT", "nodded"
    return default, "default for the mode"


# Exposure types that are time series whatever TSOVISIT says (jwst's list).
TSO_EXPOSURES = ("nrc_tsimage", "nrc_tsgrism", "nrs_brightobj")


def is_time_series(model) -> bool:
    """jwst's time-series test: TSOVISIT or a time-series exposure type, unless the
    exposure has a single integration."""
    tso = bool(model.meta.visit.tsovisit) or str(model.meta.exposure.type or "").lower() in TSO_EXPOSURES
    nints = model.meta.exposure.nints
    return tso and not (nints is not None and nints < 2)


def set_source_type(model, source_type=None, default="POINT", pattern=None):
    """Set meta.target.source_type (and the slit's source_type) in place; return the model."""
    import logging

    apt = model.meta.target.source_type_apt
    if apt is None:
        apt = model.meta.target.source_type
        model.meta.target.source_type_apt = apt
    value, reason = decide_source_type(
        source_type,
        model.meta.observation.bkgdtarg,
        is_time_series(model),
        apt,
        pattern if pattern is not None else model.meta.dither.primary_type,
        default,
    )
    logging.getLogger("spec2").info("SRCTYPE = %s (%s)", value, reason)
    model.meta.target.source_type = value
    if hasattr(model, "source_type"):
        model.source_type = value
    return model


def set_slit_source_types(model, source_type=None):
    """WFSS: each cut-out is EXTENDED when the catalog says the source is extended, else
    POINT (or every cut-out the ``source_type`` the user asks for); in place."""
    import logging

    if source_type:
        value, _ = decide_source_type(source_type, None, False, None, None)
    for slit in model.slits:
        slit.source_type = value if source_type else ("EXTENDED" if slit.is_extended else "POINT")
    logging.getLogger("spec2").info("SRCTYPE per source: %d POINT, %d EXTENDED",
                                    sum(s.source_type == "POINT" for s in model.slits),
                                    sum(s.source_type == "EXTENDED" for s in model.slits))
    return model
