"""jwst's names for the stage-2 spectroscopic pipeline and its steps, as data.

spec2 names its steps with jwst's aliases (``extract_1d``, ``bkg_subtract``), so a jwst
user's ``--steps.<alias>.<param>``, parameter files and CRDS parameter references map
onto spec2's steps by name. This module holds what spec2 needs to know of jwst 3.0.0
without importing it: the pipeline class, every step alias of ``Spec2Pipeline`` with its
class, and the parameters every stpipe step has for its own file handling. A test
compares these tables with the installed jwst.
"""

from __future__ import annotations

#: The class ``strun`` runs for calwebb_spec2, as written in parameter files.
PIPELINE_CLASS = "jwst.pipeline.calwebb_spec2.Spec2Pipeline"
PIPELINE_NAME = "Spec2Pipeline"

#: Every step of jwst's Spec2Pipeline: {alias: fully qualified class}, in jwst's order.
STEP_CLASSES = {
    "assign_wcs": "jwst.assign_wcs.assign_wcs_step.AssignWcsStep",
    "badpix_selfcal": "jwst.badpix_selfcal.badpix_selfcal_step.BadpixSelfcalStep",
    "msa_flagging": "jwst.msaflagopen.msaflagopen_step.MSAFlagOpenStep",
    "clean_flicker_noise": "jwst.clean_flicker_noise.clean_flicker_noise_step.CleanFlickerNoiseStep",
    "bkg_subtract": "jwst.background.background_step.BackgroundStep",
    "imprint_subtract": "jwst.imprint.imprint_step.ImprintStep",
    "extract_2d": "jwst.extract_2d.extract_2d_step.Extract2dStep",
    "master_background_mos": "jwst.master_background.master_background_mos_step.MasterBackgroundMosStep",
    "targ_centroid": "jwst.targ_centroid.targ_centroid_step.TargCentroidStep",
    "wavecorr": "jwst.wavecorr.wavecorr_step.WavecorrStep",
    "flat_field": "jwst.flatfield.flat_field_step.FlatFieldStep",
    "srctype": "jwst.srctype.srctype_step.SourceTypeStep",
    "straylight": "jwst.straylight.straylight_step.StraylightStep",
    "fringe": "jwst.fringe.fringe_step.FringeStep",
    "residual_fringe": "jwst.residual_fringe.residual_fringe_step.ResidualFringeStep",
    "pathloss": "jwst.pathloss.pathloss_step.PathLossStep",
    "barshadow": "jwst.barshadow.barshadow_step.BarShadowStep",
    "wfss_contam": "jwst.wfss_contam.wfss_contam_step.WfssContamStep",
    "photom": "jwst.photom.photom_step.PhotomStep",
    "adaptive_trace_model": "jwst.adaptive_trace_model.adaptive_trace_model_step.AdaptiveTraceModelStep",
    "pixel_replace": "jwst.pixel_replace.pixel_replace_step.PixelReplaceStep",
    "resample_spec": "jwst.resample.resample_spec_step.ResampleSpecStep",
    "cube_build": "jwst.cube_build.cube_build_step.CubeBuildStep",
    "extract_1d": "jwst.extract_1d.extract_1d_step.Extract1dStep",
}

#: Parameters every stpipe step has for its own file handling (where and how it saves
#: its output). spec2 decides those with -o and its fixed suffixes: in a parameter file
#: they are ignored without a word.
STPIPE_IO_PARAMETERS = frozenset({
    "input_dir", "output_dir", "output_ext", "output_file", "output_use_index", "output_use_model",
    "post_hooks", "pre_hooks", "save_results", "search_output_file", "suffix",
})

#: The prefix of a jwst step option naming a reference file (``override_flat``).
OVERRIDE_PREFIX = "override_"


def class_name(qualified: str) -> str:
    """``Extract1dStep`` of ``jwst.extract_1d.extract_1d_step.Extract1dStep``."""
    return str(qualified).rsplit(".", 1)[-1]


def step_of_class(qualified: str) -> str | None:
    """The step alias of a class, however its module is spelled
    (``jwst.extract_1d.Extract1dStep`` too); None for a class that is no Spec2 step."""
    name = class_name(qualified)
    for alias, cls in STEP_CLASSES.items():
        if class_name(cls) == name:
            return alias
    return None


def pars_reftype(step: str) -> str | None:
    """The CRDS reference type of a step's parameters (jwst's ``pars-`` + class name in
    lower case), or None for a step jwst does not have."""
    cls = STEP_CLASSES.get(step)
    return None if cls is None else "pars-" + class_name(cls).lower()


PIPELINE_PARS_REFTYPE = "pars-" + PIPELINE_NAME.lower()
