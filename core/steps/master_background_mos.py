"""master_background_mos: a master background for a multi-slit exposure, from its
background slitlets or a user's 1-D spectrum, subtracted from every slit in DN/s.

What it does (jwst 3.0.0's MasterBackgroundMosStep, built from the instrument's own
steps rather than copies of them):

1. On a copy of the exposure with every slit taken as EXTENDED, run the instrument's
   calibration chain forward (NIRSpec: flat_field, pathloss, barshadow, photom): the
   slits are then in surface brightness.
2. The 1-D master background: the user's spectrum (``user_background``: its
   ``wavelength`` and ``surf_bright`` columns), or else the background slitlets of the
   calibrated copy resampled (resample_spec) and extracted (extract_1d), their spectra
   combined as combine_1d combines them (exposure-time weights, ``sigma_clip``) and
   smoothed by a moving median of ``median_kernel`` points.
3. For every slit, the spectrum interpolated at each pixel's wavelength (0 and
   DO_NOT_USE outside the spectrum's range) replaces the calibrated copy's data (its
   DQ, the forward chain's, is kept: jwst ORs it into the science).
4. That 2-D background is decalibrated through the chain in reverse order with
   ``inverse=True`` (each step that completed forward), back to DN/s.
5. Each slit's SCI -= background (``inverse``: +=), DQ |= the background's DQ; ERR and
   the variances are left as they are (as jwst). S_MSBSUB records the outcome.

Steps are called by name through the plugin manager (:func:`spec2.steps.call.call_step`),
so the core names no instrument: the plugin's hook passes its chain. A chain step must
be invertible (declare an ``inverse`` parameter, see :func:`spec2.recipe.inverse_param`)
and leave the slits' WCS as it is: the background copy shares the exposure's WCS objects.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from spec2.algorithms.combine1d import (
    Spectrum1D,
    combine_spectra,
    is_monotonic,
    median_filter,
)
from spec2.algorithms.dq import DO_NOT_USE
from spec2.algorithms.master_background import expand_to_2d, is_background_slit

log = logging.getLogger("spec2")

#: Extra products (``save_background``): the 1-D master background, its 2-D decalibrated
#: form per slit, and the background slitlets' extracted spectra.
EXTRA_PRODUCTS = ("masterbg1d", "masterbg2d", "bkgx1d")


# ---------------------------------------------------------------------------------------
# Reading the 1-D background
# ---------------------------------------------------------------------------------------


def read_user_background(path, input_dir=None):
    """The user's 1-D background as a datamodel with ``spec``/``spec_table``; InputError
    when the file is missing or holds no 1-D spectrum with wavelength and surf_bright.

    A relative path is looked up in the working directory, then in ``input_dir``."""
    from stdatamodels.jwst import datamodels

    from spec2.errors import InputError

    candidates = [Path(path)]
    if input_dir is not None and not Path(path).is_absolute():
        candidates.append(Path(input_dir) / path)
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise InputError(f"user_background {path}: no such file")
    try:
        model = datamodels.open(os.fspath(found))
    except Exception as exc:  # noqa: BLE001 -- whatever stdatamodels raises, the user gets one line
        raise InputError(f"user_background {path}: not a JWST datamodel ({exc})") from None
    try:
        background_table(model)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        kind = type(model).__name__
        model.close()
        raise InputError(f"user_background {path}: not a 1-D spectrum with wavelength and surf_bright "
                         f"columns (an x1d or combined spectrum) but a {kind}") from None
    return model


def background_table(model):
    """(wavelength, surf_bright) of a 1-D spectrum model: the first spectrum of a
    MultiSpecModel/MultiCombinedSpecModel, or a CombinedSpecModel's table."""
    table = model.spec[0].spec_table if hasattr(model, "spec") else model.spec_table
    wavelength = np.asarray(table["wavelength"], np.float64)
    surf_bright = np.asarray(table["surf_bright"], np.float64)
    if wavelength.ndim != 1 or wavelength.size < 2:
        raise ValueError("fewer than two wavelengths")
    return wavelength, surf_bright


def spectra_of(x1d) -> list[Spectrum1D]:
    """The x1d's spectra of its first spectral order, weighted by its exposure time;
    those with no finite flux or non-monotonic wavelengths are left out (logged)."""
    weight = x1d.meta.exposure.exposure_time or 1.0
    unset = object()
    out, order = [], unset
    for spec in x1d.spec:
        t = spec.spec_table
        if not np.any(np.isfinite(t["flux"])):
            log.warning("background spectrum %s has no valid flux; not used", spec.name)
            continue
        if not is_monotonic(t["wavelength"]):
            log.warning("background spectrum %s has non-monotonic wavelengths; not used", spec.name)
            continue
        if order is unset:
            order = spec.spectral_order
        if spec.spectral_order != order:
            continue
        out.append(Spectrum1D(np.array(t["wavelength"]), np.array(t["flux"]), np.array(t["flux_error"]),
                              np.array(t["surf_bright"]), np.array(t["sb_error"]), np.array(t["dq"]), weight))
    return out


def combined_model(combined, like):
    """A MultiCombinedSpecModel holding the combined spectrum (the ``_masterbg1d``)."""
    from stdatamodels.jwst import datamodels

    dtype = datamodels.CombinedSpecModel().get_dtype("spec_table")
    table = np.zeros(len(combined.wavelength), dtype=dtype)
    for column, values in zip(dtype.names, (combined.wavelength, combined.flux, combined.error,
                                            combined.surf_bright, combined.sb_error, combined.dq,
                                            combined.weight, combined.n_input), strict=True):
        table[column] = values
    spec = datamodels.CombinedSpecModel(spec_table=table)
    spec.spec_table.columns["wavelength"].unit = "um"
    spec.spec_table.columns["surf_bright"].unit = "MJy/sr"
    spec.spec_table.columns["sb_error"].unit = "MJy/sr"
    out = datamodels.MultiCombinedSpecModel()
    out.update(like, only="PRIMARY")
    out.spec.append(spec)
    return out


# ---------------------------------------------------------------------------------------
# The step
# ---------------------------------------------------------------------------------------


def _forward_params(stepdef, run_params):
    """A chain step's parameters on the background copy: the run's (jwst's sub-steps
    take their parent's), forward, every slit EXTENDED."""
    params = {k: v for k, v in (run_params or {}).items() if k != "skip"}
    params["inverse"] = False
    if "source_type" in {p.name for p in stepdef.params}:
        params["source_type"] = "EXTENDED"
    return params


def check_chain(pm, chain):
    """UnsupportedModeError unless every chain step exists and can run in inverse."""
    from spec2.errors import UnsupportedModeError
    from spec2.plugins import step_definitions

    stepdefs = step_definitions(pm)
    for name in chain:
        if name not in stepdefs:
            raise UnsupportedModeError(f"master background: no step {name!r} to decalibrate through")
        if "inverse" not in {p.name for p in stepdefs[name].params}:
            raise UnsupportedModeError(f"master background: step {name} has no inverse parameter, so the "
                                       "background cannot be decalibrated through it")
    return stepdefs


def copy_sharing_wcs(model):
    """A deep copy of ``model`` whose WCS objects (the model's and each slit's) are the
    model's own, not copies.

    Deep-copying a slit's gwcs (an astropy model tree of the instrument's optics) costs
    about 0.2 s a slitlet, and the chain only reads it."""
    shared = [getattr(m.meta, "wcs", None) for m in (model, *getattr(model, "slits", []))]
    return model.copy(memo={id(wcs): wcs for wcs in shared if wcs is not None})


def calibrate_as_extended(pm, model, refs, chain, stepdefs, members=None, input_dir=None, step_params=None):
    """(calibrated copy, [(step, params) applied]): ``model`` copied, its slits made
    EXTENDED, and the chain run forward with the run's parameters of each step
    (``step_params``: name -> params; None: defaults), each recorded COMPLETE on the
    copy; steps skipped in the run or that skip here are left out of the list."""
    from spec2.errors import StepFailed, StepSkipped
    from spec2.steps.call import call_step

    copy = copy_sharing_wcs(model)
    for slit in copy.slits:
        slit.source_type = "EXTENDED"
    applied = []
    for name in chain:
        run_params = step_params(name) if step_params is not None else {}
        if run_params.get("skip"):
            log.info("master background: %s is skipped in this run; not applied to the background", name)
            continue
        params = _forward_params(stepdefs[name], run_params)
        try:
            copy = call_step(pm, name, copy, refs, params, members, input_dir)
        except StepSkipped as exc:
            log.info("master background: %s skipped on the background copy (%s)", name, exc.reason)
            continue
        except StepFailed as exc:
            raise StepFailed(f"{name} failed on the background copy: {exc.reason}") from None
        if stepdefs[name].cal_step:  # as jwst's sub-step records it (extract_1d reads photom's)
            setattr(copy.meta.cal_step, stepdefs[name].cal_step, "COMPLETE")
        applied.append((name, params))
    return copy, applied


def background_slits(calibrated):
    """A MultiSlitModel of the calibrated copy's background slitlets (None if none)."""
    from stdatamodels.jwst import datamodels

    slits = [s for s in calibrated.slits if is_background_slit(s.source_name)]
    if not slits:
        return None
    out = datamodels.MultiSlitModel()
    out.update(calibrated)
    for slit in slits:
        log.info("master background: background slitlet %s (%s)", slit.name, slit.source_name)
        out.slits.append(slit)
    return out


def master_spectrum(pm, calibrated, refs, params, members=None, input_dir=None):
    """(wavelength, surf_bright, 1-D product, background x1d) from the background slitlets."""
    from spec2.errors import StepFailed, StepSkipped
    from spec2.steps.call import call_step

    bkg = background_slits(calibrated)
    try:
        resampled = call_step(pm, "resample_spec", bkg, refs, None, members, input_dir)
    except StepSkipped as exc:
        log.info("master background: background slitlets not resampled (%s)", exc.reason)
        resampled = bkg
    try:
        x1d = call_step(pm, "extract_1d", resampled, refs, None, members, input_dir)
    except (StepSkipped, StepFailed) as exc:
        raise StepFailed(f"the background slitlets could not be extracted: {exc.reason}") from None
    spectra = spectra_of(x1d)
    if not spectra:
        raise StepFailed("no background slitlet gave a usable spectrum")
    combined = combine_spectra(spectra, sigma_clip=params["sigma_clip"])
    kernel = int(params["median_kernel"] or 1)
    if kernel > 1:
        combined.surf_bright = median_filter(combined.surf_bright, kernel)
        combined.flux = median_filter(combined.flux, kernel)
    return combined.wavelength, combined.surf_bright, combined_model(combined, calibrated), x1d


def expanded_background(calibrated, wavelength, surf_bright):
    """The calibrated copy, in place, its slits holding the spectrum at each pixel's
    wavelength (DQ |= DO_NOT_USE where the spectrum does not reach); returned.

    jwst copies the calibrated model first; here it is the step's own copy, no longer
    needed once the spectrum is made, so the slits (and their WCS) are not copied again."""
    from spec2.errors import StepFailed

    background = calibrated
    for slit in background.slits:
        wl = slit.wavelength if slit.hasattr("wavelength") else None
        if wl is None or wl.shape != slit.data.shape:
            raise StepFailed(f"slit {slit.name} has no wavelength array to lay the master background on")
        values, outside = expand_to_2d(wl, wavelength, surf_bright)
        slit.data = values.astype(slit.data.dtype)
        slit.dq = slit.dq | np.where(outside, DO_NOT_USE, 0).astype(slit.dq.dtype)
    return background


def decalibrate(pm, background, refs, applied, members=None, input_dir=None):
    """The chain's applied steps run with ``inverse=True``, last first."""
    from spec2.errors import StepFailed, StepSkipped
    from spec2.steps.call import call_step

    for name, params in reversed(applied):
        try:
            background = call_step(pm, name, background, refs, {**params, "inverse": True}, members, input_dir)
        except (StepSkipped, StepFailed) as exc:
            raise StepFailed(f"{name} could not be undone on the master background: {exc.reason}") from None
    return background


def subtract_slits(model, background, add=False):
    """SCI -= background (``add``: +=) and DQ |= background DQ, slit by slit, in place."""
    for slit, bkg in zip(model.slits, background.slits, strict=True):
        slit.data = (slit.data + bkg.data if add else slit.data - bkg.data).astype(slit.data.dtype)
        slit.dq = slit.dq | bkg.dq
    return model


def subtract_master_background(model, refs, params, pm, chain, extra_products=None, members=None,
                               input_dir=None, step_params=None):
    """The master_background_mos step on a MultiSlitModel in DN/s (see the module
    docstring); returns the model, background-subtracted in place.

    chain  -- the instrument's calibration steps from DN/s to surface brightness, in
              the order it runs them (each invertible)
    params -- the step's: sigma_clip, median_kernel, force_subtract, save_background,
              user_background, inverse
    step_params -- name -> a chain step's parameters in the run (the hook's argument):
              the chain runs with them; None: their defaults

    Raises StepSkipped when a background was already subtracted (unless
    ``force_subtract``); StepFailed when there is no background slitlet and no user
    background, or no source slitlet; InputError for a user background that is not a
    1-D spectrum.
    """
    from spec2.errors import StepFailed, StepSkipped

    done = (model.meta.cal_step.bkg_subtract, model.meta.cal_step.master_background)
    if not params["force_subtract"] and "COMPLETE" in done:
        raise StepSkipped("a background was already subtracted (force_subtract=true subtracts again)")
    stepdefs = check_chain(pm, chain)
    user = None
    if params["user_background"]:
        user = read_user_background(params["user_background"], input_dir)
    else:
        n_bkg = sum(is_background_slit(s.source_name) for s in model.slits)
        if n_bkg == 0:
            raise StepFailed("no background slitlet (source name with BKG or BACKGROUND) and no user_background")
        if n_bkg == len(model.slits):
            raise StepFailed("no source slitlet to subtract a master background from")
    calibrated, applied = calibrate_as_extended(pm, model, refs, chain, stepdefs, members, input_dir, step_params)
    if user is not None:
        wavelength, surf_bright = background_table(user)
        master1d, x1d = user, None
    else:
        wavelength, surf_bright, master1d, x1d = master_spectrum(pm, calibrated, refs, params, members, input_dir)
    background = decalibrate(pm, expanded_background(calibrated, wavelength, surf_bright), refs, applied,
                             members, input_dir)
    for slit, own in zip(background.slits, model.slits, strict=True):
        slit.source_type = own.source_type  # EXTENDED was for the chain; _masterbg2d shows the slit's own
    subtract_slits(model, background, add=bool(params.get("inverse")))
    if params["save_background"] and extra_products is not None:
        extra_products["masterbg1d"] = master1d
        extra_products["masterbg2d"] = background
        if x1d is not None:
            extra_products["bkgx1d"] = x1d
    return model
