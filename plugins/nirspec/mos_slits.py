"""NIRSpec MOS (NRS_MSASPEC) slit products: extract_2d's cut-outs with each slitlet's MSA
metadata, srctype's per-slitlet decision, and the two slit groups of an MSA exposure.

A MOS exposure's slits are its slitlets (quadrants 1-4) and the fixed slits of the MSA
configuration (quadrant 5). extract_2d cuts each out as for fixed slits
(:func:`spec2_nirspec.extract_2d.cut_out`) and copies the slitlet's Slit tuple onto the
SlitModel as jwst does: the source's planned position in its shutter (not the dither
offsets), its identity and stellarity, the shutter row/column, the shutter_state string
later steps (pathloss, barshadow) read, and ``slitlet_id`` (a fixed slit's shutter id).
"""

from __future__ import annotations

POINT_STELLARITY = 0.75  # above it (or negative: unknown) a source is a point source


def is_slitlet(slit) -> bool:
    """A MOS slitlet (quadrants 1-4): the first slit group of an MSA exposure."""
    return slit.quadrant != 5


def is_fixed_slit(slit) -> bool:
    """A fixed slit of the MSA configuration (quadrant 5), calibrated as fixed slits are."""
    return slit.quadrant == 5


def named_as_slitlet(slit) -> bool:
    """A MOS slitlet by its name (a number), as jwst tells them apart at extraction,
    where a resampled slit may no longer carry its quadrant."""
    return str(slit.name).isdigit()


def named_as_fixed_slit(slit) -> bool:
    """A fixed slit of the MSA configuration by its name (S200A1, ...)."""
    return not named_as_slitlet(slit)


def set_mos_attributes(slit_model, slit):
    """Copy a slitlet's MSA metadata (a Slit tuple) onto its SlitModel."""
    slit_model.source_name = slit.source_name
    slit_model.source_alias = slit.source_alias
    slit_model.stellarity = float(slit.stellarity)
    slit_model.source_xpos = float(slit.source_xpos)
    slit_model.source_ypos = float(slit.source_ypos)
    try:
        slit_model.slitlet_id = int(slit.name)
    except ValueError:  # a fixed slit is named, not numbered
        slit_model.slitlet_id = int(slit.shutter_id)
    slit_model.quadrant = int(slit.quadrant)
    slit_model.xcen = int(slit.xcen)
    slit_model.ycen = int(slit.ycen)
    slit_model.dither_position = int(slit.dither_position)
    slit_model.source_ra = float(slit.source_ra)
    slit_model.source_dec = float(slit.source_dec)
    slit_model.slit_xscale = float(slit.slit_xscale)
    slit_model.slit_yscale = float(slit.slit_yscale)
    slit_model.shutter_state = slit.shutter_state


def extract_mos_slits(model):
    """MultiSlitModel of every slit the exposure's WCS holds, in its order (quadrants 1
    to 5, the MSA file's order within each)."""
    from stdatamodels.jwst.datamodels import MultiSlitModel

    from spec2.models import new_model
    from spec2_nirspec.extract_2d import cut_out, s_region

    out = new_model(MultiSlitModel)
    out.update(model)
    for slit in model.meta.wcs.get_transform("gwa", "slit_frame").slits:
        cut = cut_out(model, slit)
        set_mos_attributes(cut, slit)
        region, spectral = s_region(cut)
        if region is not None:
            cut.meta.wcsinfo.s_region = region
        cut.meta.wcsinfo.spectral_region = spectral
        cut.meta.bunit_data = model.meta.bunit_data
        cut.meta.bunit_err = model.meta.bunit_err
        out.slits.append(cut)
    return out


def mos_source_types(model):
    """POINT or EXTENDED per slit from its stellarity (negative: unknown, taken as a point
    source; background slitlets have 0: extended). The exposure's own SRCTYPE is cleared:
    MOS types belong to slits."""
    for slit in model.slits:
        s = slit.stellarity
        slit.source_type = "POINT" if (s < 0.0 or s > POINT_STELLARITY) else "EXTENDED"
    model.meta.target.source_type = None
    return model
