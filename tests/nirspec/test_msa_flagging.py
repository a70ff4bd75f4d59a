"""msa_flagging's pure parts on hand-made input: which msaoper shutters are failed open,
and which array indices a bounding box covers (the flags themselves are compared with
jwst's in tests/nirspec/test_mos_parity.py)."""

from spec2_nirspec.msa_flagging import box_indices, failed_open_slits


def _shutter(q, x, y, **states):
    entry = {"Q": q, "x": x, "y": y, "state": "closed", "TA state": "closed", "Internal state": "normal"}
    entry.update(states)
    return entry


def test_failed_open_shutters():
    doc = {"msaoper": [
        _shutter(1, 10, 20),  # failed closed: not flagged
        _shutter(2, 5, 1, state="open"),
        _shutter(3, 365, 171, **{"TA state": "open"}),
        _shutter(4, 1, 2, **{"Internal state": "open"}),
        _shutter(1, 7, 7, state="normal"),
    ]}
    slits = failed_open_slits(doc)
    assert [s.quadrant for s in slits] == [2, 3, 4]
    assert [s.slit_id for s in slits] == [1, 2, 3]
    assert slits[0].name == "failed-open shutter Q2 row 5 column 1"
    assert [s.shutter_id for s in slits] == [5, 365 + 170 * 365, 1 + 365]
    assert all((s.ymin, s.ymax, s.shutter_state) == (-0.5, 0.5, "x") for s in slits)
    assert failed_open_slits({"msaoper": [_shutter(1, 1, 1)]}) == []


def test_box_indices():
    shape = (2048, 2048)
    assert box_indices(shape, ((100.4, 300.6), (9.5, 20.5))) == (100, 301, 9, 21)
    assert box_indices(shape, ((-5.5, 40.2), (2040.5, 2060.5))) == (0, 41, 2040, 2048)
    xmin, xmax, _, _ = box_indices(shape, ((2100.5, 2200.5), (5.5, 9.5)))
    assert xmin >= xmax  # off the detector: nothing to flag
