"""Every hook the spec2 core calls. Each docstring is that hook's whole contract.

A plugin is a module (or object) with functions named like these hooks and marked with
``@spec2.hookimpl``; it is registered through the ``spec2`` entry-point group, the
built-in plugins exactly like a third-party one. A hook implementation may accept any
subset of the arguments listed in the specification. A function named like no hook
(``flat_field`` for ``flat``) is an error at load, not a silent no-op.

Who is called: a plugin declares in :func:`spec2_claims` the exposure types it
calibrates and the steps it implements for them. For an exposure, the runner calls a
step's hook in the one plugin that claims that step for the exposure's EXP_TYPE (and in
every plugin's ``wrapper=True`` implementations around it), so a hook never checks
EXP_TYPE to decide whether the exposure is its own. Two plugins claiming one step for one
type is an error at load unless one claims it with ``override=True``.
"""

from spec2 import hookspec

# ---------------------------------------------------------------------------------------
# Registration: what a plugin adds and what it calibrates
# ---------------------------------------------------------------------------------------


@hookspec(historic=True)
def spec2_addhooks(pluginmanager):
    """Add hook specifications of a plugin's own (as pytest's ``pytest_addhooks``).

    Call ``pluginmanager.add_hookspecs(module_or_class)`` here to declare hooks for
    mode-specific steps (e.g. ``wavecorr``) that other plugins may then implement.
    Historic: plugins registered later still see it. Returns nothing.
    """


@hookspec
def spec2_claims():
    """Return a list of :class:`spec2.recipe.Claim`: the EXP_TYPEs this plugin
    calibrates, the steps it implements for them (each with the reference types it
    opens), whether it gives their recipe, and whether it overrides another plugin.

    Every plugin answers; the manager builds one table from the answers at load and
    routes every step call by it. ``spec2 plugins`` prints it.
    """


@hookspec(firstresult=True)
def spec2_recipe(exp_type, multi_int, meta, input_dir):
    """Return the :class:`spec2.recipe.Recipe` for one exposure.

    Called only in the plugin that claims ``exp_type`` with ``recipe=True`` (and in any
    plugin's ``wrapper=True`` implementation, which may edit the recipe the owner
    returns: ``recipe = yield``, then return ``recipe.insert_after("flat_field", ...)``).

    exp_type  -- the exposure's EXP_TYPE
    multi_int -- True for a ``_rateints`` input (products become ``_calints``/``_x1dints``)
    meta      -- the exposure's ``model.meta`` (read it, never change it): what jwst
                 branches on beyond EXP_TYPE -- ``visit.tsovisit`` (TSOVISIT),
                 ``instrument.lamp_mode`` (OPMODE), ``instrument.lamp_state`` (LAMP),
                 ``instrument.msa_metadata_file``/``msa_metadata_id`` (the MSA
                 configuration), ``dither.position_number``, ...
    input_dir -- the folder of the input (or of its association): where jwst looks for
                 files the exposure names, such as the MSA metadata file

    Every step named must be a core step (:data:`spec2.recipe.CORE_STEPS`) or one a
    plugin declares in :func:`spec2_step_definitions`, and claimed for ``exp_type``.
    """


@hookspec
def spec2_step_definitions():
    """Return a list of :class:`spec2.recipe.StepDef` for steps this plugin adds.

    A StepDef names the step (as users write it in ``--skip``/``--set``), the hook that
    runs it (usually one added in :func:`spec2_addhooks`), the ``meta.cal_step``
    attribute that records its status, its typed parameters and reference types.
    Defining a step that exists already is an error at load.
    """


@hookspec
def spec2_step_parameters():
    """Return ``{step name: [spec2.recipe.Param, ...]}``: parameters this plugin adds to
    steps defined elsewhere (the core's extract_1d, say). A parameter already defined
    for that step, by the core or another plugin, is an error at load naming both.
    """


# ---------------------------------------------------------------------------------------
# Calibration steps on one exposure, in the order calwebb_spec2 usually runs them.
#
# Common arguments (a hook takes the subset it needs):
#   model   -- the stdatamodels model being calibrated (types per mode below). The hook
#              may change it in place and return it, or return a new model (a
#              MultiSlitModel made from an ImageModel). The runner sets the step's status
#              keyword and the R_* keywords of the reference files opened through ``refs``.
#   refs    -- a :class:`spec2.refs.RefResolver`: ``refs.open(reftype)`` gives the
#              reference datamodel, ``refs.path(reftype)`` its path (None for N/A),
#              ``refs.load_json(reftype)`` a parsed JSON reference. A missing reference
#              file raises :class:`spec2.errors.ReferenceFileError`.
#   params  -- dict of this step's parameters (every :class:`spec2.recipe.Param` of its
#              StepDef, plugins' included): defaults, then the recipe's, then the user's
#              ``--set STEP.PARAM=VALUE``. None means "not set: the reference decides".
#   members -- dict mapping association exptype ("background", "imprint", "sourcecat",
#              ...) to lists of member paths, resolved relative to the association.
#   input_dir -- the folder of the input file or association (e.g. the MSA metadata file).
#   pm      -- the plugin manager: a step that runs others (master background
#              decalibrating through flat/pathloss/photom with ``inverse=True``) calls
#              them with :func:`spec2.steps.call.call_step`, never by copying them.
#   step_params -- (master_background_mos only) name -> that step's parameters in this
#              run, for a step that runs others with the run's settings, as jwst's
#              sub-steps take their parent pipeline's.
#   extra_products -- a dict the hook may fill with {suffix: model} for the extra
#              products its StepDef declares (``masterbg1d``); the runner writes them
#              with the exposure's other products.
#
# Return the calibrated model. Raise :class:`spec2.errors.StepSkipped` when the step
# does not apply (recorded SKIPPED), :class:`spec2.errors.StepFailed` when it could not
# do its work and the exposure goes on (recorded FAILED). Returning None is an error.
#
# The model a hook receives, per mode (before the step -> what it returns):
#   MIRI LRS fixed slit   assign_wcs: ImageModel -> SlitModel; later steps SlitModel;
#                         resample_spec: SlitModel -> SlitModel (_s2d); extract: the _s2d
#   MIRI LRS slitless     CubeModel -> SlitModel with 3-D data from assign_wcs on
#   NIRSpec FS            ImageModel until extract_2d -> MultiSlitModel; resample_spec:
#                         MultiSlitModel (_s2d); extract: the _s2d
#   NIRSpec BOTS          CubeModel until extract_2d -> SlitModel with 3-D data
#   NIRCam TSGRISM        CubeModel until extract_2d -> SlitModel with 3-D data
#   NIRCam/NIRISS WFSS    ImageModel until extract_2d -> MultiSlitModel (one slit per
#                         source and order); extract: MultiSlitModel -> WFSSMultiSpecModel
# ---------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def assign_wcs(model, refs, params, members, input_dir, pm, extra_products):
    """Attach the gwcs to ``model.meta.wcs`` (jwst's frame names) and fill ``meta.wcsinfo``.

    Receives the rate/rateints model (ImageModel or CubeModel); returns it, or the model
    type the mode's later steps work on (MIRI LRS: a SlitModel). Recipes mark it
    ``required``: the exposure fails when it does not complete.
    """


@hookspec(firstresult=True)
def background(model, refs, params, members, input_dir, pm, extra_products):
    """Subtract the background: the association's ``background`` members, or a reference
    background for modes that use one (WFSS). Receives and returns the rate-shaped model
    (after assign_wcs). Raise StepSkipped when there is none.
    """


@hookspec(firstresult=True)
def extract_2d(model, refs, params, members, input_dir, pm, extra_products):
    """Cut the exposure into one slit (or source/order) cut-out each; receives the
    ImageModel/CubeModel, returns a SlitModel (time series) or MultiSlitModel whose slits
    carry their own WCS and wavelength array.
    """


@hookspec(firstresult=True)
def srctype(model, refs, params, members, input_dir, pm, extra_products):
    """Decide POINT or EXTENDED (``meta.target.source_type`` or per slit) from the step
    parameter ``source_type`` (None: the mode's rules), the APT keywords and the mode's
    rules. Receives and returns the model after extract_2d (or assign_wcs).
    """


@hookspec(firstresult=True)
def wfss_contam(model, refs, params, members, input_dir, pm, extra_products):
    """Remove from each WFSS cut-out (a MultiSlitModel in DN/s) the dispersed light of
    the other sources, modelled from the association's ``direct_image`` and ``segmap``
    members through the exposure's grism WCS (wavelengthrange and photom references).
    Returns the MultiSlitModel. Raise StepSkipped when there is nothing to model.
    """


@hookspec(firstresult=True)
def master_background_mos(model, refs, params, members, input_dir, pm, extra_products, step_params):
    """Subtract a master background from every slit of a multi-slit exposure in DN/s
    (after srctype, before the flat field): the background slitlets' spectra (or the
    ``user_background``) combined, laid onto each slit's wavelengths and decalibrated.

    Implement it by calling :func:`spec2.steps.master_background_mos.subtract_master_background`
    with this mode's ``chain`` of invertible steps (NIRSpec MOS: flat_field, pathloss,
    barshadow, photom); the core runs them, resample_spec and extract_1d through ``pm``.
    The model's slits must carry ``wavelength`` and ``source_name`` (background
    slitlets' names hold BKG or BACKGROUND); the claim declares the reference types of
    the chain, resample_spec and extract_1d (they are opened inside this step). Extra
    products ``masterbg1d``, ``masterbg2d``, ``bkgx1d`` when ``save_background``.

    step_params -- name -> that step's parameters in this run (defaults, recipe, CRDS,
    the user's; ``skip`` True when skipped): the chain steps run with them, as jwst's
    sub-steps take their parent pipeline's (a skipped chain step is not applied).
    """


# Steps that run in inverse. A step whose StepDef has the ``inverse`` parameter
# (spec2.recipe.inverse_param: flat_field, pathloss, photom; a plugin's barshadow) must,
# given ``params["inverse"]`` True, undo on any model what it does forward on a model
# with the same metadata (slits, source types, wavelengths, exposure): multiply where it
# divides and back. It need not restore the variances (master background uses SCI and
# DQ only), may OR DQ flags as forward does, and honours ``params["source_type"]`` (or
# each slit's ``source_type``) the same way both ways. An implementation that cannot
# undo itself for a mode says so with spec2.steps.call.forward_only (an error naming
# it), never by applying the forward correction.


@hookspec(firstresult=True)
def flat(model, refs, params, members, input_dir, pm, extra_products):
    """Divide by the flat field, propagating ERR, VAR_POISSON, VAR_RNOISE into VAR_FLAT
    and OR-ing the flat's DQ; with ``params["inverse"]`` multiply instead (undo it: the
    variances are left as they are). Receives and returns the model of that point of the
    recipe (ImageModel/CubeModel, SlitModel or MultiSlitModel).
    """


@hookspec(firstresult=True)
def pathloss(model, refs, params, members, input_dir, pm, extra_products):
    """Correct for the light lost outside the slit for the source's position and type;
    with ``params["inverse"]`` undo the correction. Receives and returns the SlitModel or
    MultiSlitModel. Raise StepSkipped for source types the mode does not correct.
    """


@hookspec(firstresult=True)
def photom(model, refs, params, members, input_dir, pm, extra_products):
    """Convert DN/s to MJy/sr (extended) or MJy (point sources) at each pixel's
    wavelength; set BUNIT, PHOTMJSR, PIXAR_SR and PIXAR_A2. With ``params["inverse"]``
    convert back. Receives and returns the calibrated model; a recipe that runs photom
    after extract_1d gives it the extracted spectra (MultiSpecModel/TSOMultiSpecModel).
    """


@hookspec(firstresult=True)
def resample_spec(model, refs, params, members, input_dir, pm, extra_products):
    """Resample the calibrated 2-D spectrum onto a rectified grid (the ``_s2d`` product).

    Receives the calibrated SlitModel/MultiSlitModel and returns a new model of the same
    type; it never modifies its input (the ``_cal``).
    """


@hookspec(firstresult=True)
def cube_build(model, refs, params, members, input_dir, pm, extra_products):
    """Build a 3-D spectral cube (an IFUCubeModel, the ``_s3d`` product) from the
    calibrated IFUImageModel; never modifies its input.

    An IFU plugin implements it as ``return spec2.steps.cube_build.run(model, refs,
    params, pm)`` and answers :func:`ifu_pixels`: the core does the grid (``cubepar``),
    the weighting (drizzle, emsm, msm), the planes and the cube WCS.
    """


@hookspec(firstresult=True)
def ifu_pixels(model, refs, params):
    """Where each valid pixel of this calibrated IFU exposure looks: return a list of
    :class:`spec2.algorithms.cube_pixels.IFUPixels`, one per band the exposure holds
    (NIRSpec: one, its grating and filter; MIRI: one per channel on the detector).

    Each gives, for every pixel the IFU illuminates (inside a slice, finite wavelength,
    corners that map to the sky), its sky position, its four corners on the sky in order
    around the pixel (the pixel's footprint through the slice's WCS), its wavelength and
    the wavelength range it covers, and its SCI, ERR and DQ. The core leaves out
    DO_NOT_USE and NON_SCIENCE pixels, NaN values and wavelengths outside the cube, so
    the plugin need not. Optional: the exposure's sky ``footprint`` (jwst's S_REGION:
    the cube is sized on it, else on the corners), ``ifu_angle`` (the slicer's angle
    on the sky, for ``coord_system=ifualign``) and ``slice_no`` (each pixel's slice,
    for a slicer whose slices are lines on the sky: the DQ plane's field of view).

    Called by :func:`spec2.steps.cube_build.run` in the plugin that claims cube_build
    for the exposure's EXP_TYPE. ``params`` are cube_build's. Never modifies ``model``.
    """


@hookspec(firstresult=True)
def extract(model, refs, params, members, input_dir, pm, extra_products):
    """Extract 1-D spectra: return a MultiSpecModel (``_x1d``) or, for a multi-integration
    input, a TSOMultiSpecModel with one row per integration (``_x1dints``); never
    modifies its input.

    Receives the model of the recipe's step before it: the ``_s2d`` where the recipe
    resamples, the ``_cal``/``_calints`` where it does not.
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
