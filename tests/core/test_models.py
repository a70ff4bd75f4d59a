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


def test_models_share_one_merged_schema_that_nothing_changes():
    """new_model merges a class's schema once: every SlitModel it makes holds the same
    merged tree, equal to what the class's own constructor merges; a model that extends
    its schema gets a new tree and leaves the shared one as it was."""
    import copy

    data = np.ones((2, 3), dtype=np.float32)
    a, b = new_model(SlitModel, data=data), new_model(SlitModel, data=data)
    assert a._schema is b._schema
    plain = SlitModel(data=data)
    assert plain._schema is not a._schema
    assert plain._schema == a._schema
    before = copy.deepcopy(a._schema)
    a.extend_schema({"type": "object", "properties": {"spec2_extra": {"type": "string"}}})
    assert a._schema is not b._schema
    assert new_model(SlitModel, data=data)._schema == before == b._schema


def test_merging_other_schemas_is_unchanged():
    from stdatamodels import schema as mschema

    new_model(SlitModel)  # installs the lookup
    schema = {"allOf": [{"type": "object", "properties": {"x": {"type": "number"}}},
                        {"type": "object", "properties": {"y": {"type": "string"}}}]}
    merged = mschema.merge_property_trees(schema)
    assert merged["properties"].keys() == {"x", "y"}
    assert mschema.merge_property_trees(schema) is not merged
