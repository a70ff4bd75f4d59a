"""The floor of a time-series run: what any Python pipeline pays, and nothing more.

    python benchmarks/floor.py RATEINTS OUTPUT.fits [REFERENCE ...]
    python benchmarks/floor.py --inputs RATE [RATE ...] --out-dir DIR [--refs REFERENCE ...]

Run as its own process (timed from outside, like the pipelines it is set beside), it

1. imports stdatamodels (and so asdf with its extensions),
2. opens the ``_rateints`` with stdatamodels and reads every array in it,
3. reads every reference file given (FITS with astropy, every HDU's data; ASDF with
   asdf, every array of the tree): the files the mode's run report lists,
4. writes the input's arrays once, with astropy alone, to ``OUTPUT.fits``.

No pipeline can do less and still produce calibrated integrations, so the ratio of a
run to this is how much of the run is the pipeline's own cost. The second form is the
floor of a batch: the references once, then steps 2 and 4 for each input in turn (the
marginal floor per exposure is the difference of two batch sizes).
"""

from __future__ import annotations

import sys
from pathlib import Path


def touch(array) -> float:
    """Read every element of ``array`` (a lazy or memory-mapped array is loaded)."""
    import numpy as np

    return float(np.asarray(array).ravel().view(np.uint8).sum(dtype=np.uint64))


def model_arrays(model) -> dict:
    """Every array of the model's tree, each read once; {tree path: array}."""
    import numpy as np

    arrays = {}
    for key, value in model.items():
        if isinstance(value, np.ndarray):
            touch(value)
            arrays[key] = value
    return arrays


def read_reference(path) -> int:
    """Read every array of a reference file; returns the number of bytes read."""
    if str(path).endswith(".json"):
        import json

        text = Path(path).read_text()
        json.loads(text)
        return len(text)
    if str(path).endswith(".asdf"):
        import asdf
        import numpy as np

        total = 0
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            stack = [af.tree]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    stack.extend(node.values())
                elif isinstance(node, (list, tuple)):
                    stack.extend(node)
                elif isinstance(node, np.ndarray):
                    touch(node)
                    total += node.nbytes
        return total
    from astropy.io import fits

    total = 0
    with fits.open(path, memmap=False) as hdul:
        for hdu in hdul:
            if hdu.data is not None:
                data = hdu.data
                touch(data if not hasattr(data, "columns") else data.view("u1"))
                total += data.nbytes
    return total


def write_arrays(arrays: dict, path) -> None:
    """Write the arrays once, one image extension each, with astropy alone."""
    from astropy.io import fits

    hdus = [fits.PrimaryHDU()]
    for key, array in arrays.items():
        name = key.split(".")[0].upper()[:68]
        if array.dtype.names:
            hdus.append(fits.BinTableHDU(array, name=name))
        else:
            hdus.append(fits.ImageHDU(array, name=name))
    fits.HDUList(hdus).writeto(path, overwrite=True)


def floor_of(rateints, output, references) -> None:
    """Steps 2-4 for one input (stdatamodels already imported)."""
    from stdatamodels.jwst import datamodels

    with datamodels.open(rateints) as model:
        arrays = model_arrays(model)
        for ref in references:
            read_reference(ref)
        write_arrays(arrays, output)


def batch_floor(inputs, out_dir, references) -> None:
    from stdatamodels.jwst import datamodels

    for ref in references:
        read_reference(ref)
    for path in inputs:
        with datamodels.open(path) as model:
            write_arrays(model_arrays(model), Path(out_dir) / Path(path).name.replace(".fits", "_floor.fits"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--inputs":
        import argparse

        parser = argparse.ArgumentParser(prog="floor.py")
        parser.add_argument("--inputs", nargs="+", required=True)
        parser.add_argument("--out-dir", required=True)
        parser.add_argument("--refs", nargs="*", default=[])
        args = parser.parse_args(argv)
        batch_floor(args.inputs, args.out_dir, args.refs)
        return
    if len(argv) < 2:
        sys.exit("usage: floor.py RATEINTS OUTPUT.fits [REFERENCE ...]")
    floor_of(argv[0], argv[1], argv[2:])


if __name__ == "__main__":
    main()
