"""Steps, recipes and claims: the data a plugin gives the runner.

- :class:`Param` -- one step parameter: type, default (None allowed), help.
- :class:`StepDef` -- one step as users see it (``--skip NAME``, ``--set NAME.PARAM=V``):
  the hook that runs it, its status keyword, parameters, reference types, and the
  product kind it makes (``s2d``, ``x1d``, ...) when it makes a new product.
- :class:`Step` -- one entry of a recipe: a step name with its flags (``product`` --
  the output of this step is saved as that product; ``required`` -- the exposure fails
  if it does not complete; ``params`` -- this mode's defaults).
- :class:`SlitGroups` -- a recipe entry that splits a multi-slit model into groups of
  slits (MOS slitlets, fixed slits of one MSA exposure), runs each group's own step
  list, and merges the groups back in the order listed.
- :class:`Recipe` -- an ordered tuple of those entries, with editing helpers for plugins
  that extend another plugin's recipe.
- :class:`Claim` -- what a plugin declares it calibrates: EXP_TYPEs, the steps it
  implements for them (with the reference types each opens), whether it gives their
  recipe, and whether it overrides another plugin's claim.

The runner (:mod:`spec2.pipeline`) knows no mode: everything it does differently for one
mode is written here as data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_NONE = ("", "none", "null")

#: Parameter types and how ``--set`` text is parsed into each.
PARAM_TYPES = ("bool", "int", "float", "str", "ints", "floats")


def is_true(text) -> bool:
    """Whether option text (``--set STEP.skip=yes``, an environment variable) means true."""
    return str(text).strip().lower() in _TRUE


def parameter_error(stepdefs: Mapping, step: str, param: str) -> str | None:
    """Why ``STEP.PARAM`` names no parameter of ``stepdefs`` ({name: StepDef}), or None
    when it does: the one check the CLI's ``--set`` and the API's ``params`` share."""
    if step not in stepdefs:
        return f"unknown step {step!r} (steps: {', '.join(stepdefs)})"
    names = [p.name for p in stepdefs[step].params]
    if param not in names:
        return f"step {step} has no parameter {param!r} (parameters: {', '.join(names)})"
    return None


@dataclass(frozen=True)
class Param:
    """One step parameter.

    name    -- as users write it after the step name (``--set extract_1d.NAME=...``)
    type    -- one of :data:`PARAM_TYPES` (``ints``/``floats``: a list, written ``1,2``)
    default -- the value when nobody sets it; None means "not set: the reference file or
               the mode decides" (the step's help says what decides)
    help    -- one line for ``spec2 steps`` and the user guide
    choices -- the allowed values of a ``str`` parameter (empty: any)
    """

    name: str
    type: str
    default: Any = None
    help: str = ""
    choices: tuple = ()

    def __post_init__(self):
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name}: type {self.type!r} is not one of {PARAM_TYPES}")

    def parse(self, text):
        """The value of ``--set`` text; raises ValueError saying what was expected.

        ``none`` (or nothing) gives None for a parameter whose default is None."""
        text = str(text).strip()
        if text.lower() in _NONE and self.default is None:
            return None
        if self.type == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"expected true or false, got {text!r}")
        try:
            if self.type == "int":
                return int(text)
            if self.type == "float":
                return float(text)
            if self.type in ("ints", "floats"):
                cast = int if self.type == "ints" else float
                return [cast(v) for v in text.replace(",", " ").split()]
        except ValueError:
            kind = {"int": "an integer", "float": "a number", "ints": "integers", "floats": "numbers"}[self.type]
            raise ValueError(f"expected {kind}, got {text!r}") from None
        if self.choices and text not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {text!r}")
        return text

    def describe_type(self) -> str:
        kind = {"ints": "list of int", "floats": "list of float"}.get(self.type, self.type)
        if self.choices:
            kind += " (" + "|".join(self.choices) + ")"
        return kind + (" or None" if self.default is None else "")


def _skip_param(off_by_default: bool) -> Param:
    why = "off by default: set false to run it" if off_by_default else "skip the step (recorded SKIPPED)"
    return Param("skip", "bool", off_by_default, why)


# ---------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------

#: Product kinds and their file suffixes (single-integration, multi-integration).
PRODUCT_SUFFIXES = {"cal": ("cal", "calints"), "s2d": ("s2d", "s2d"), "s3d": ("s3d", "s3d"),
                    "x1d": ("x1d", "x1dints")}


@dataclass(frozen=True)
class StepDef:
    """One step as users and the runner see it.

    name      -- the jwst step alias, used in ``--skip NAME`` and ``--set NAME.PARAM=V``
    hook      -- the hook that runs it (a hookspec name)
    cal_step  -- the ``meta.cal_step`` attribute set to COMPLETE/SKIPPED (the S_* keyword)
    params    -- its parameters (a ``skip`` parameter is added for every step)
    summary   -- one line for ``spec2 steps`` and the docs
    suffix    -- file suffix of the step's intermediate product (--save-intermediate);
                 jwst's step suffix, which is the step name unless jwst says otherwise
    reftypes  -- the reference types the step may open, whatever the mode (a plugin's
                 claim names those it opens for its modes)
    makes     -- the product kind of the new model the step returns ("s2d", "s3d",
                 "x1d"), or None for a step that calibrates its input in place. A step
                 that makes a product never changes its input.
    off_by_default -- the step runs only when the user sets ``NAME.skip=false``
    extra_products -- suffixes of extra products the step may hand back (``_masterbg1d``)
    skipped_as -- the ``meta.cal_step`` attribute a skip the user asked for is recorded
                 under, when it is not ``cal_step``: stpipe records a skipped step under
                 the step's name (``cal_step.master_background_mos``) while the step
                 records its own outcomes under its keyword (``cal_step.master_background``)
    rewrites_members -- association member types (``background``) whose members the
                 step may replace, in the ``members`` dict its hook receives, with
                 datamodels it made from them; the steps after it receive those (NIRSpec
                 imprint hands bkg_subtract imprint-subtracted backgrounds). A step
                 that does not declare a type cannot change what later steps see of it.
    """

    name: str
    hook: str
    cal_step: str | None
    params: tuple[Param, ...] = ()
    summary: str = ""
    suffix: str = ""
    reftypes: tuple[str, ...] = ()
    makes: str | None = None
    off_by_default: bool = False
    extra_products: tuple[str, ...] = ()
    rewrites_members: tuple[str, ...] = ()
    skipped_as: str | None = None

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"step {self.name}: a parameter is defined twice ({names})")
        if "skip" not in names:
            object.__setattr__(self, "params", (_skip_param(self.off_by_default), *self.params))
        if self.makes is not None and self.makes not in PRODUCT_SUFFIXES:
            raise ValueError(f"step {self.name}: makes {self.makes!r}, not one of {tuple(PRODUCT_SUFFIXES)}")

    def param(self, name) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def status_keywords(self) -> tuple[str, ...]:
        """Every ``meta.cal_step`` attribute the step's status may be recorded under."""
        return tuple(k for k in (self.cal_step, self.skipped_as) if k)

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def with_params(self, extra: tuple[Param, ...]) -> StepDef:
        return replace(self, params=self.params + tuple(extra))


@dataclass(frozen=True)
class Step:
    """One entry of a recipe.

    name     -- a step name (a :class:`StepDef` of the core or of a plugin)
    product  -- save this step's output as this product: a kind of
                :data:`PRODUCT_SUFFIXES` (``cal`` is ``_cal`` or ``_calints``) or any
                other suffix. A product of kind K is saved only when the model is of kind
                K there: ``s2d`` on a resample_spec that was skipped is not saved.
    required -- the exposure fails when this step does not complete (unless the user
                skipped it): assign_wcs, whose WCS every later step needs
    params   -- this mode's defaults, over the StepDef's: {param: value}
    """

    name: str
    product: str | None = None
    required: bool = False
    params: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class SlitGroup:
    """A group of the slits of a multi-slit model, with its own steps.

    name     -- shown in logs and the run report (``pathloss[fixed_slit]``)
    select   -- slit -> bool: does this slit belong to the group (a module-level function,
                so that recipes travel to worker processes)
    steps    -- the group's steps, in order (entries as in a recipe, no nested groups)
    exp_type -- the EXP_TYPE the group's slits are calibrated as (None: the exposure's).
                The runner sets it on the group's model and on each of its slits, opens
                the references CRDS selects for that type, and runs each step as the
                plugin claiming it *for that type* implements it; the merged model has
                the exposure's type again (jwst calibrates the fixed slits of an MSA
                exposure as NRS_FIXEDSLIT this way).
    """

    name: str
    select: Callable
    steps: tuple[Step, ...]
    exp_type: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "steps", tuple(Step(e) if isinstance(e, str) else e for e in self.steps))


@dataclass(frozen=True)
class SlitGroups:
    """Split a multi-slit model into groups, run each group's steps, merge them back.

    The merged model holds the groups' slits in the order the groups are listed (jwst's
    order: MOS slitlets, then the fixed slits of an MSA exposure); slits no group selects
    are dropped with a warning. A step run on only some groups records COMPLETE when it
    completed on any of them. An empty group is not run.

    A group may end with a step that makes ``product`` (extract_1d making the ``x1d``,
    each group with its own exposure type's references): the groups' products are then
    merged into one, their spectra in the groups' order.
    """

    groups: tuple[SlitGroup, ...]
    product: str | None = None  # the merged model saved as this product


@dataclass(frozen=True)
class Recipe:
    """The steps one exposure runs, in order, with the products marked on them.

    entries -- :class:`Step` and :class:`SlitGroups` entries. Every step gets the model
               the step before it returned. A step that makes a product (resample_spec,
               extract_1d) leaves its input unchanged; a step that calibrates in place
               after a product was marked works on a copy, so the product saved is the
               model as it stood at its mark.
    """

    entries: tuple

    def __post_init__(self):
        entries = tuple(Step(e) if isinstance(e, str) else e for e in self.entries)
        object.__setattr__(self, "entries", entries)

    # -- reading -------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[str, ...]:
        """Every step name, groups' steps included, in order of first appearance."""
        names: list[str] = []
        for entry in self.entries:
            for step in _flat(entry):
                if step.name not in names:
                    names.append(step.name)
        return tuple(names)

    def typed_steps(self, exp_type: str) -> tuple[tuple[str, str], ...]:
        """Every (step name, EXP_TYPE it runs as) of an exposure of ``exp_type``: a
        group's steps run as the group's type when it has one. In order, no repeats."""
        pairs: dict[tuple[str, str], None] = {}
        for entry in self.entries:
            if isinstance(entry, SlitGroups):
                for group in entry.groups:
                    pairs.update(dict.fromkeys((s.name, group.exp_type or exp_type) for s in group.steps))
            else:
                pairs[(entry.name, exp_type)] = None
        return tuple(pairs)

    def step(self, name) -> Step:
        for entry in self.entries:
            for step in _flat(entry):
                if step.name == name:
                    return step
        raise KeyError(name)

    def products(self) -> tuple[str, ...]:
        out = []
        for entry in self.entries:
            out += [s.product for s in _flat(entry) if s.product]
            if isinstance(entry, SlitGroups) and entry.product:
                out.append(entry.product)
        return tuple(out)

    # -- editing (for plugins that extend a recipe in a wrapper hook) --------------------
    def insert_after(self, name: str, *new) -> Recipe:
        """A copy with the new steps after step ``name`` (in every group that has it)."""
        return Recipe(_insert(self.entries, name, _steps(new), after=True))

    def insert_before(self, name: str, *new) -> Recipe:
        return Recipe(_insert(self.entries, name, _steps(new), after=False))

    def without(self, name: str) -> Recipe:
        return Recipe(_map(self.entries, lambda s: () if s.name == name else (s,)))

    def with_params(self, name: str, **params) -> Recipe:
        """A copy whose step ``name`` has these mode defaults added."""
        return Recipe(_map(self.entries, lambda s: (replace(s, params={**s.params, **params}),)
                           if s.name == name else (s,)))


def _steps(new):
    return tuple(Step(s) if isinstance(s, str) else s for s in new)


def _flat(entry):
    if isinstance(entry, SlitGroups):
        return [s for g in entry.groups for s in g.steps]
    return [entry]


def _map(entries, fn):
    out = []
    for entry in entries:
        if isinstance(entry, SlitGroups):
            groups = tuple(replace(g, steps=tuple(s for step in g.steps for s in fn(step))) for g in entry.groups)
            out.append(replace(entry, groups=groups))
        else:
            out.extend(fn(entry))
    return tuple(out)


def _insert(entries, name, new, after):
    found = []

    def fn(step):
        if step.name != name:
            return (step,)
        found.append(step)
        return (step, *new) if after else (*new, step)

    out = _map(entries, fn)
    if not found:
        raise KeyError(f"the recipe has no step {name!r}")
    return out


# ---------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What a plugin calibrates, as it returns from ``spec2_claims``.

    exp_types -- the EXP_TYPE values claimed
    steps     -- {step name: reference types it opens} for the steps this plugin
                 implements for these exposure types (a tuple of names means no
                 references). The runner calls a step's hook only in the plugin that
                 claims it for the exposure's type.
    recipe    -- the plugin gives these exposure types' recipe (``spec2_recipe``); a
                 plugin that only adds a step to another's recipe says False
    override  -- take these claims over from another plugin that makes them too (a
                 user's replacement flat for one mode, say); without it two plugins
                 claiming one mode or step is an error naming both
    """

    exp_types: tuple[str, ...]
    steps: Mapping = field(default_factory=dict)
    recipe: bool = True
    override: bool = False

    def __post_init__(self):
        if isinstance(self.exp_types, str):
            object.__setattr__(self, "exp_types", (self.exp_types,))
        steps = self.steps
        if not isinstance(steps, Mapping):
            steps = {name: () for name in steps}
        object.__setattr__(self, "steps", {k: tuple(v) for k, v in steps.items()})


# ---------------------------------------------------------------------------------------
# The core's steps
# ---------------------------------------------------------------------------------------


def _source_type_param():
    return Param("source_type", "str", None, "force the source type (POINT or EXTENDED); None: the mode's rules",
                 choices=("POINT", "EXTENDED"))


def inverse_param(what):
    """The ``inverse`` parameter of a step that can undo itself (the contract is in
    :mod:`spec2.hookspecs`, "Steps that run in inverse"): master background
    decalibrates through every step of its chain that declares it. A plugin step that
    can invert (NIRSpec barshadow) adds it to its StepDef."""
    return Param("inverse", "bool", False, f"undo the {what} (multiply where it divides), as master background does")


_inverse_param = inverse_param  # the name it had first


CORE_STEPS = {
    s.name: s
    for s in [
        StepDef("assign_wcs", "assign_wcs", "assign_wcs", (), "attach the gwcs",
                reftypes=("distortion", "specwcs", "filteroffset", "wavelengthrange", "disperser", "fpa", "camera",
                          "collimator", "msa", "fore", "ote", "regions", "ifufore", "ifuslicer", "ifupost")),
        StepDef(
            "bkg_subtract", "background", "bkg_subtract",
            (
                Param("sigma", "float", 3.0, "clipping threshold of the association backgrounds' mean"),
                Param("maxiters", "int", None, "clipping iterations; None: until nothing changes"),
                Param("wfss_mmag_extract", "float", None,
                      "WFSS: mask the traces of sources brighter than this AB magnitude; None: every source"),
                Param("wfss_maxiter", "int", 5, "WFSS: iterations of the reference background's scale"),
                Param("wfss_rms_stop", "float", 0.0, "WFSS: stop when the scale changes by less (percent)"),
                Param("wfss_outlier_percent", "float", 1.0, "WFSS: percentile clipped at each end"),
                Param("wfss_mask", "str", None, "WFSS: a mask file of background pixels; None: the catalog's traces"),
            ),
            "subtract association or reference backgrounds", suffix="bsub", reftypes=("bkg", "wavelengthrange"),
        ),
        StepDef(
            "extract_2d", "extract_2d", "extract_2d",
            (
                Param("extract_orders", "ints", None, "grism orders to cut out; None: the wavelengthrange's"),
                Param("tsgrism_extract_height", "int", None, "grism time series: cut-out height (rows); None: 64, jwst's"),
                Param("wfss_extract_half_height", "int", 5, "WFSS: half height of a point source's cut-out"),
                Param("wfss_mmag_extract", "float", None, "WFSS: faintest AB magnitude cut out; None: every source"),
                Param("wfss_nbright", "int", 1000, "WFSS: cut out at most this many of the brightest sources"),
                Param("source_ids", "ints", None, "WFSS: only these catalog sources; None: every source"),
            ),
            "cut out slits or sources", reftypes=("wavelengthrange", "specwcs"),
        ),
        StepDef("srctype", "srctype", "srctype", (_source_type_param(),), "POINT or EXTENDED"),
        StepDef(
            "wfss_contam", "wfss_contam", "wfss_contam",
            (
                Param("orders", "ints", None, "orders modelled; None: the wavelengthrange's"),
                Param("magnitude_limit", "float", None, "faintest AB magnitude modelled; None: every source"),
                Param("wl_oversample", "int", 2, "wavelength oversampling of the dispersed model"),
                Param("max_pixels_per_chunk", "int", 5000, "direct-image pixels dispersed at once"),
            ),
            "remove the other sources' dispersed light from WFSS cut-outs",
            reftypes=("wavelengthrange", "photom"), off_by_default=True,
        ),
        StepDef(
            "master_background_mos", "master_background_mos", "master_background",
            (
                Param("sigma_clip", "float", 3.0, "clipping threshold when combining the background spectra; "
                      "None: no clipping"),
                Param("median_kernel", "int", 1, "moving-median width smoothing the master background (odd)"),
                Param("force_subtract", "bool", False, "subtract even if a background was subtracted already"),
                Param("save_background", "bool", False, "save _masterbg1d, _masterbg2d and _bkgx1d"),
                Param("user_background", "str", None, "a 1-D background spectrum (x1d or combined) to use; "
                      "None: from the background slitlets"),
                Param("inverse", "bool", False, "add the master background instead of subtracting it"),
            ),
            "multi-slit master background from background slitlets, decalibrated and subtracted",
            extra_products=("masterbg1d", "masterbg2d", "bkgx1d"), skipped_as="master_background_mos",
        ),
        StepDef("flat_field", "flat", "flat_field", (inverse_param("flat field"),), "divide by the flat field",
                reftypes=("flat", "fflat", "sflat", "dflat")),
        StepDef("pathloss", "pathloss", "pathloss", (inverse_param("slit-loss correction"),), "slit-loss correction",
                reftypes=("pathloss",)),
        StepDef("photom", "photom", "photom", (inverse_param("flux calibration"),), "DN/s to MJy/sr or MJy",
                reftypes=("photom", "area")),
        StepDef(
            "resample_spec", "resample_spec", "resample",
            (
                Param("pixfrac", "float", 1.0, "drizzle's pixel shrink factor"),
                Param("kernel", "str", "square", "drizzle kernel",
                      choices=("square", "point", "turbo", "gaussian", "lanczos2", "lanczos3")),
                Param("weight_type", "str", "ivm", "weights of the input pixels (ivm, exptime)"),
                Param("pixel_scale_ratio", "float", 1.0, "output pixel size over the input's"),
            ),
            "rectified 2-D spectrum (_s2d)", makes="s2d",
        ),
        StepDef(
            "cube_build", "cube_build", "cube_build",
            (
                Param("weighting", "str", "drizzle", "drizzle (footprint overlap) or emsm/msm (modified Shepard)",
                      choices=("drizzle", "emsm", "msm")),
                Param("coord_system", "str", "skyalign", "cube axes along RA/Dec or along the IFU slices",
                      choices=("skyalign", "ifualign")),
                Param("output_type", "str", "band", "one cube per band, channel/grating, or one for all",
                      choices=("band", "channel", "grating", "multi")),
                Param("scalexy", "float", 0.0, "spaxel size (arcsec); 0: the cubepar's"),
                Param("scalew", "float", 0.0, "wavelength step (micron); 0: the cubepar's"),
                Param("wavemin", "float", None, "shortest wavelength of the cube (micron); None: the cubepar's"),
                Param("wavemax", "float", None, "longest wavelength of the cube (micron); None: the cubepar's"),
                Param("rois", "float", 0.0, "emsm/msm: spatial region of interest (arcsec); 0: the cubepar's"),
                Param("roiw", "float", 0.0, "emsm/msm: spectral region of interest (micron); 0: the cubepar's"),
                Param("weight_power", "float", 2.0, "msm: power of the distance; 0: the cubepar's"),
                Param("cube_pa", "float", None, "skyalign: position angle of the cube (degrees E of N); None: 0"),
                Param("ra_center", "float", None, "RA of the cube's tangent point; None: the data's centre"),
                Param("dec_center", "float", None, "Dec of the cube's tangent point; None: the data's centre"),
                Param("nspax_x", "int", None, "spaxels along x (odd); None: enough for the data"),
                Param("nspax_y", "int", None, "spaxels along y (odd); None: enough for the data"),
                Param("skip_dqflagging", "bool", False, "DQ without the field of view (no holes flagged)"),
            ),
            "spectral cube (_s3d)", reftypes=("cubepar",), makes="s3d",
        ),
        StepDef(
            "extract_1d", "extract", "extract_1d",
            (
                Param("apply_apcorr", "bool", True, "apply the aperture correction"),
                Param("use_source_posn", "bool", None, "centre the aperture on the source; None: the reference's"),
                Param("subtract_background", "bool", None, "subtract the background regions; None: the reference's"),
                Param("bkg_fit", "str", None, "background fit; None: the reference's",
                      choices=("poly", "mean", "median")),
                Param("bkg_order", "int", None, "polynomial order of the background fit; None: the reference's"),
                Param("smoothing_length", "int", None, "background smoothing length; None: the reference's"),
                Param("position_offset", "float", 0.0, "extra cross-dispersion offset of the aperture (pixels)"),
            ),
            "1-D spectra (_x1d/_x1dints)", reftypes=("extract1d", "apcorr"), makes="x1d",
        ),
    ]
}
