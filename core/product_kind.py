"""What kind of stage-2 product a datamodel is, named by its datamodel (``x1d``,
``x1dints``, ``wfss_x1d``, ``slit`` and ``multislit`` for _s2d and slit-mode _cal/_calints,
``image`` and ``images`` for slitless _cal/_calints, ``s3d``), and the
one-line error for a file that is none of them. Shared by ``spec2 plot`` and
``spec2 compare``."""

from __future__ import annotations

from pathlib import Path


class ProductError(Exception):
    """A file that is not a readable stage-2 product; the message is one line."""


def kind_of(model) -> str:
    """The product kind of an open datamodel; ProductError for any other model.
    Subclasses are tested before their bases (IFUCubeModel before CubeModel)."""
    from stdatamodels.jwst import datamodels as dm

    kinds = (
        (dm.WFSSMultiSpecModel, "wfss_x1d"),
        (dm.TSOMultiSpecModel, "x1dints"),
        (dm.MultiSpecModel, "x1d"),
        (dm.IFUCubeModel, "s3d"),
        (dm.MultiSlitModel, "multislit"),
        (dm.SlitModel, "slit"),
        (dm.CubeModel, "images"),
        (dm.ImageModel, "image"),
    )
    for cls, kind in kinds:
        if isinstance(model, cls):
            return kind
    raise ProductError(f"{type(model).__name__} is not a spectroscopic stage-2 product spec2 knows")


def open_product(path):
    """The open datamodel of ``path`` (the caller closes it); ProductError, one line, when
    the file is missing or not a JWST datamodel."""
    from stdatamodels.jwst import datamodels

    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: no such file")
    try:
        return datamodels.open(path)
    except Exception as exc:  # noqa: BLE001 -- astropy, asdf, stdatamodels: many types for a bad file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProductError(f"{path.name}: not a JWST product ({first})") from None
