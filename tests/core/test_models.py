"""spec2.models.new_model: the same model as the class's constructor builds, without
loading the class's schema again (asdf deep-copies it on every load: ~50 ms a SlitModel)."""

import numpy as np
from stdatamodels.jwst.datamodels import MultiSlitModel, SlitModel

from spec2.models import new_model


def _count_schema_loads(monkeypatch):
    from asdf import schema as asdf_schema

    calls = []
    original = asdf_schema.load_schema

    def counting(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("url"))
        return original(*args, **kwargs)

    monkeypatch.setattr(asdf_schema, "load_schema", counting)
    return calls


def test_slit_model_built_without_reloading_its_schema(monkeypatch):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    new_model(SlitModel, data=data)  # the first one may load it
    calls = _count_schema_loads(monkeypatch)
    ours = new_model(SlitModel, data=data, wavelength=data + 1, name="S200A1", source_id=3)
    assert calls == []

    reference = SlitModel(data=data, wavelength=data + 1, name="S200A1", source_id=3)
    assert type(ours) is SlitModel
    assert ours.schema == reference.schema
    np.testing.assert_array_equal(ours.data, reference.data)
    np.testing.assert_array_equal(ours.wavelength, reference.wavelength)
    assert (ours.name, ours.source_id) == ("S200A1", 3)
    assert ours.instance.keys() == reference.instance.keys()


def test_slit_model_from_new_model_goes_into_a_multislit_and_validates():
    data = np.ones((2, 3), dtype=np.float32)
    container = new_model(MultiSlitModel)
    container.slits.append(new_model(SlitModel, data=data, name="S400A1"))
    container.validate()
    assert container.slits[0].name == "S400A1"
    np.testing.assert_array_equal(container.slits[0].data, data)
