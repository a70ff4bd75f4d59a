"""Hook specifications the NIRSpec plugin adds: its mode-specific steps.

Declared through ``spec2_addhooks`` so that other plugins (a user's replacement
wavecorr, say) can implement them too; the first non-None result wins, as for core steps.
"""

from spec2 import hookspec


class NirspecSteps:
    @hookspec(firstresult=True)
    def wavecorr(self, model, refs, params, members, input_dir, pm, extra_products):
        """(Arguments as the core's step hooks, see :mod:`spec2.hookspecs`.)

        Correct the wavelength zero point of point sources off-centre in their slit.

        ``model`` is the extract_2d output (MultiSlitModel, or the BOTS SlitModel). Insert
        the correction into each point-source slit's WCS and re-evaluate its wavelengths;
        return the model. Raise StepSkipped when no slit was corrected.
        """

    @hookspec(firstresult=True)
    def imprint(self, model, refs, params, members, input_dir, pm, extra_products):
        """(Arguments as the core's step hooks, see :mod:`spec2.hookspecs`.)

        Subtract the association's ``imprint`` member matching the exposure (jwst's
        rules) from ``model`` (the rate ImageModel/IFUImageModel after assign_wcs) and
        from each ``background`` member, replacing ``members["background"]`` by the
        imprint-subtracted datamodels (the StepDef declares
        ``rewrites_members=("background",)``, so bkg_subtract receives them). Return the
        model; raise StepSkipped when there is no imprint member or none matches.
        """

    @hookspec(firstresult=True)
    def barshadow(self, model, refs, params, members, input_dir, pm, extra_products):
        """(Arguments as the core's step hooks.)

        Correct the MOS slitlets of ``model`` (a MultiSlitModel after pathloss) for the
        shadow of the MSA bars on uniform light; ``params["inverse"]`` undoes it and
        ``params["source_type"]`` forces the source type. Return the model; raise
        StepSkipped for an exposure that is not MOS or has no barshadow reference.
        """

    @hookspec(firstresult=True)
    def msa_flagging(self, model, refs, params, members, input_dir, pm, extra_products):
        """(Arguments as the core's step hooks.)

        Flag MSA_FAILED_OPEN in ``model.dq`` (the assign_wcs output) where light through
        the failed-open shutters of the ``msaoper`` reference falls; return the model.
        Raise StepSkipped without an msaoper reference.
        """
