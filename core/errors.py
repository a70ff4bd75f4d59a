"""Exceptions the runner knows how to report.

Every error a user can cause (bad file, missing reference, unsupported mode) derives from
:class:`Spec2Error`, whose message is a single line that names the file or reference type
and says what to do; the CLI prints it as is and exits non-zero.
"""


class Spec2Error(Exception):
    """Base class: a problem with the input or the set-up, reported on one line.

    ``exit_status`` is what ``spec2 process`` exits with when this is why an exposure
    failed (1 unless a subclass says otherwise)."""

    exit_status = 1


class InputError(Spec2Error):
    """An input file is missing, unreadable, not FITS, or not a spectroscopic exposure."""


class NoDataOnDetector(InputError):
    """The exposure holds no spectrum to calibrate: no open slit or shutter projects onto
    its detector (common on NRS2 for MOS configurations). Not a calibration failure;
    exit status 64, jwst's for the same case, so that scripts can tell it apart."""

    exit_status = 64


class UnsupportedModeError(Spec2Error):
    """No loaded plugin handles this EXP_TYPE (or this step for it)."""


class PluginError(Spec2Error):
    """The installed plugins do not fit together: a hook with no specification, a step or
    parameter defined twice, two plugins claiming one mode or step. Raised at load."""


class AssociationError(Spec2Error):
    """An association file is malformed or names a member that does not exist."""


class ReferenceFileError(Spec2Error):
    """A reference file could not be selected or opened."""


class OutputError(Spec2Error):
    """The output folder cannot be created or written: found before any work is done."""


class StepSkipped(Exception):
    """Raised by a step hook that decides the step does not apply to this exposure.

    The runner records ``SKIPPED`` for the step's status keyword and logs ``reason``;
    it is not an error. Example: LRS pathloss for an extended source.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class StepFailed(Exception):
    """Raised by a step hook that could not do its work on this exposure, which goes on
    unchanged (jwst's FAILED status, e.g. WFSS background with too few background pixels).

    The hook may have updated the model's metadata before raising. The runner records
    ``FAILED`` for the step's status keyword, logs ``reason`` and continues with the
    model; the exposure itself does not fail.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason
