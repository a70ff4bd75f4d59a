"""Steps and recipes: what a mode runs, in which order, with which parameters.

A :class:`StepDef` is the core's record of one step (name, hook, status keyword,
parameters). A :class:`Recipe` is what a plugin returns from ``spec2_recipe`` for an
exposure type: the ordered calibration steps that make ``_cal``, then the optional
resampling step (``_s2d``/``_s3d``) and extraction step (``_x1d``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepDef:
    """One step as users and the runner see it.

    name      -- the jwst step alias, used in ``--skip NAME`` and ``--set NAME.PARAM=V``
    hook      -- the hook that runs it (a hookspec name)
    cal_step  -- the ``meta.cal_step`` attribute set to COMPLETE/SKIPPED (the S_* keyword)
    params    -- parameter names and defaults; the type of the default parses ``--set``.
                 A ``skip`` parameter makes the step optional: True (the default given)
                 records it SKIPPED unless the user sets ``NAME.skip=false``
    summary   -- one line for ``spec2 plugins`` and the docs
    suffix    -- file suffix of the step's intermediate product (--save-intermediate);
                 jwst's step suffix, which is the step name unless jwst says otherwise
    """

    name: str
    hook: str
    cal_step: str
    params: dict = field(default_factory=dict)
    summary: str = ""
    suffix: str = ""


CORE_STEPS = {
    s.name: s
    for s in [
        StepDef("assign_wcs", "assign_wcs", "assign_wcs", {}, "attach the gwcs"),
        StepDef(
            "bkg_subtract",
            "background",
            "bkg_subtract",
            # WFSS reference background, jwst's names: wfss_mmag_extract 999 masks every
            # magnitude, wfss_rms_stop is in percent, wfss_mask "" means the catalog's boxes
            {"sigma": 3.0, "maxiters": -1, "wfss_mmag_extract": 999.0, "wfss_maxiter": 5,
             "wfss_rms_stop": 0.0, "wfss_outlier_percent": 1.0, "wfss_mask": ""},
            "subtract association or reference backgrounds",
            suffix="bsub",
        ),
        StepDef(
            "extract_2d",
            "extract_2d",
            "extract_2d",
            # jwst's names; "" and -1 mean: as the wavelengthrange reference / the subarray say;
            # wfss_mmag_extract 999 extracts every magnitude, source_ids "" every source
            {"extract_orders": "", "tsgrism_extract_height": -1, "wfss_extract_half_height": 5,
             "wfss_mmag_extract": 999.0, "wfss_nbright": 1000, "source_ids": ""},
            "cut out slits or sources",
        ),
        StepDef("srctype", "srctype", "srctype", {"source_type": ""}, "POINT or EXTENDED"),
        StepDef(
            "wfss_contam",
            "wfss_contam",
            "wfss_contam",
            # off by default as in jwst (--set wfss_contam.skip=false runs it); jwst's names:
            # orders "" = the wavelengthrange's, magnitude_limit "" = every source
            {"skip": True, "orders": "", "magnitude_limit": "", "wl_oversample": 2, "max_pixels_per_chunk": 5000},
            "remove the other sources' dispersed light from WFSS cut-outs (off by default)",
        ),
        StepDef("flat_field", "flat", "flat_field", {}, "divide by the flat field"),
        StepDef("pathloss", "pathloss", "pathloss", {}, "slit-loss correction"),
        StepDef("photom", "photom", "photom", {}, "DN/s to MJy/sr or MJy"),
        StepDef(
            "resample_spec",
            "resample_spec",
            "resample",
            {"pixfrac": 1.0, "kernel": "square", "weight_type": "ivm", "pixel_scale_ratio": 1.0},
            "rectified 2-D spectrum (_s2d)",
        ),
        StepDef("cube_build", "cube_build", "cube_build", {}, "spectral cube (_s3d)"),
        StepDef(
            "extract_1d",
            "extract",
            "extract_1d",
            # "" and -1 mean: as the extract1d reference file says
            {"apply_apcorr": True, "use_source_posn": "", "subtract_background": "",
             "bkg_fit": "", "bkg_order": -1, "smoothing_length": -1, "position_offset": 0.0},
            "1-D spectra (_x1d/_x1dints)",
        ),
    ]
}


@dataclass(frozen=True)
class Recipe:
    """The steps one exposure type runs.

    calibrate -- step names, in order, producing the ``_cal``/``_calints`` product
    resample  -- the step producing ``_s2d``/``_s3d`` from the calibrated model, or None
    extract   -- the step producing ``_x1d``/``_x1dints``, or None; it reads the
                 resampled model when there is one, else the calibrated model
    params    -- mode defaults that differ from the StepDef defaults: {step: {param: v}}
    """

    calibrate: tuple[str, ...]
    resample: str | None = None
    extract: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def steps(self) -> tuple[str, ...]:
        return self.calibrate + tuple(s for s in (self.resample, self.extract) if s)


def parse_value(text: str, default):
    """Parse a ``--set`` value with the type of the parameter's default."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    return text


def optional_bool(text):
    """A tri-state step parameter: "" -> None (the reference file decides), otherwise a
    boolean spelt as ``--set`` accepts it. Raises InputError for anything else."""
    from spec2.errors import InputError

    if str(text).strip() == "":
        return None
    try:
        return parse_value(str(text), False)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def optional_int_list(text, name):
    """A list-of-integers step parameter (``--set extract_2d.extract_orders=1,2``):
    "" -> None (the reference file decides); numbers separated by commas or spaces.
    Raises InputError naming the parameter otherwise."""
    from spec2.errors import InputError

    if str(text).strip() == "":
        return None
    try:
        return [int(v) for v in str(text).replace(",", " ").split()]
    except ValueError:
        raise InputError(f"{name} must be integers, not {text!r}") from None
