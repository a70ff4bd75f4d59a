"""Every hook the spec2 core calls. Each docstring is that hook's whole contract.

A plugin is a module (or object) with functions named like these hooks and marked with
``@spec2.hookimpl``; it is registered through the ``spec2`` entry-point group, the
built-in MIRI plugin exactly like a third-party one. A hook implementation may accept any
subset of the arguments listed in the specification.

Step hooks are ``firstresult``: the first plugin returning something other than None wins,
so a plugin returns None for exposures that are not its own. Plugins are called in
LIFO registration order; use ``tryfirst``/``trylast`` to override a built-in.
"""

from spec2 import hookspec

# ---------------------------------------------------------------------------------------
# Registration: what a plugin adds and which exposures it calibrates
# ---------------------------------------------------------------------------------------


@hookspec(historic=True)
def spec2_addhooks(pluginmanager):
    """Add hook specifications of a plugin's own (as pytest's ``pytest_addhooks``).

    Call ``pluginmanager.add_hookspecs(module_or_class)`` here to declare hooks for
    mode-specific steps (e.g. ``straylight``) that other plugins may then implement.
    Historic: plugins registered later still see it.
    """


@hookspec
def spec2_exposure_types():
    """Return the list of EXP_TYPE values (e.g. ``["MIR_LRS-FIXEDSLIT"]``) this plugin calibrates.

    Used by ``spec2 plugins`` and to explain an unsupported exposure. All plugins answer;
    the results are concatenated.
    """


@hookspec(firstresult=True)
def spec2_recipe(exp_type, multi_int):
    """Return the :class:`spec2.recipe.Recipe` for one exposure, or None if not this plugin's.

    ``exp_type`` is the exposure's EXP_TYPE; ``multi_int`` is True for a ``_rateints``
    input (a CubeModel: products become ``_calints``/``_x1dints``). The recipe lists, in
    order, the steps that calibrate the exposure, then the resampling and extraction
    steps. Every step named must be a core step (:data:`spec2.recipe.CORE_STEPS`) or one
    the plugin declares in :func:`spec2_step_definitions`.
    """


@hookspec
def spec2_step_definitions():
    """Return a list of :class:`spec2.recipe.StepDef` for steps this plugin adds.

    A StepDef names the step (as users write it in ``--skip``/``--set``), the hook that
    runs it (usually one added in :func:`spec2_addhooks`), the ``meta.cal_step``
    attribute that records its status, and its parameters with their defaults.
    """


# ---------------------------------------------------------------------------------------
# Calibration steps on one exposure, in the order calwebb_spec2 usually runs them.
#
# Common arguments:
#   model   -- the stdatamodels model being calibrated. The hook may change it in place
#              and return it, or return a new model (e.g. a SlitModel made from an
#              ImageModel). The runner sets the step's status keyword and the R_*
#              keywords of the reference files the hook opened through ``refs``.
#   refs    -- a :class:`spec2.refs.RefResolver`: ``refs.open(reftype)`` gives the
#              reference datamodel, ``refs.path(reftype)`` its path (None for N/A),
#              ``refs.load_json(reftype)`` a parsed JSON reference. A missing reference
#              file raises :class:`spec2.errors.ReferenceFileError`.
#   params  -- dict of this step's parameters: the StepDef defaults updated by the user's
#              ``--set STEP.PARAM=VALUE``.
#   members -- dict mapping association exptype ("background", "imprint", "sourcecat",
#              ...) to lists of member paths, resolved relative to the association.
#
# Return the calibrated model, or None when the exposure is not this plugin's. Raise
# :class:`spec2.errors.StepSkipped` when the step does not apply (recorded SKIPPED).
# ---------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def assign_wcs(model, refs, params, members):
    """Attach the gwcs to ``model.meta.wcs`` (jwst's frame names) and fill ``meta.wcsinfo``.

    Input is the rate/rateints model. Every later step relies on the WCS; if this step
    fails the exposure is aborted.
    """


@hookspec(firstresult=True)
def background(model, refs, params, members):
    """Subtract the background: the association's ``background`` members, or a reference
    background for modes that use one. Raise StepSkipped when there is none.
    """


@hookspec(firstresult=True)
def extract_2d(model, refs, params, members):
    """Cut the exposure into one slit (or source/order) cut-out each; return a
    SlitModel or MultiSlitModel whose slits carry their own WCS and wavelength array.
    """


@hookspec(firstresult=True)
def srctype(model, refs, params, members):
    """Decide POINT or EXTENDED (``meta.target.source_type`` or per slit) from the step
    parameter ``source_type``, the APT keywords and the mode's rules.
    """


@hookspec(firstresult=True)
def wfss_contam(model, refs, params, members):
    """Remove from each WFSS cut-out (a MultiSlitModel in DN/s) the dispersed light of
    the other sources, modelled from the association's ``direct_image`` and ``segmap``
    members through the exposure's grism WCS (wavelengthrange and photom references).
    Raise StepSkipped when there is nothing to model.
    """


@hookspec(firstresult=True)
def flat(model, refs, params, members):
    """Divide by the flat field, propagating ERR, VAR_POISSON, VAR_RNOISE into VAR_FLAT
    and OR-ing the flat's DQ.
    """


@hookspec(firstresult=True)
def pathloss(model, refs, params, members):
    """Correct for the light lost outside the slit for the source's position and type.
    Raise StepSkipped for source types the mode does not correct.
    """


@hookspec(firstresult=True)
def photom(model, refs, params, members):
    """Convert DN/s to MJy/sr (extended) or MJy (NIRSpec point sources) at each pixel's
    wavelength; set BUNIT, PHOTMJSR, PIXAR_SR and PIXAR_A2.
    """


@hookspec(firstresult=True)
def resample_spec(model, refs, params, members):
    """Resample the calibrated 2-D spectrum onto a rectified grid (the ``_s2d`` product).

    Receives the calibrated model and returns a new model; it never modifies the ``_cal``.
    """


@hookspec(firstresult=True)
def cube_build(model, refs, params, members):
    """Build a 3-D spectral cube (the ``_s3d`` product) from calibrated IFU data."""


@hookspec(firstresult=True)
def extract(model, refs, params, members):
    """Extract 1-D spectra: return a MultiSpecModel (``_x1d``) or, for a multi-integration
    input, a TSOMultiSpecModel with one row per integration (``_x1dints``).

    Receives the resampled model when the recipe resamples, else the calibrated one.
    """


# ---------------------------------------------------------------------------------------
# Demonstration data (``spec2 demo``)
# ---------------------------------------------------------------------------------------


@hookspec
def spec2_demo_data(directory, cache):
    """Simulate this plugin's demonstration exposures; return a list of
    :class:`spec2.demo.DemoCase`.

    ``directory`` -- where to write the exposures (and associations);
    ``cache`` -- the :class:`spec2.crds_cache.LocalCache` shared by every plugin's demo:
    register reference files with ``cache.add``; the caller writes the mappings once all
    plugins are done (one cache, because CRDS fixes its context once per process).
    """
