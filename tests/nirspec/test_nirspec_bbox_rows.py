"""assign_wcs narrows a slit's bounding box to the rows that hold a wavelength; only the
first and last such row matter, found from either end of the grid without evaluating
the rows between (same rows as evaluating the whole grid)."""

import numpy as np
import pytest

from spec2_nirspec.wcs_model import rows_with_wavelength


def _grid_wavelengths(finite_rows, n_rows, n_cols=7):
    lam = np.full((n_rows, n_cols), np.nan)
    for r in finite_rows:
        lam[r, r % n_cols] = 1.0 + r  # one finite pixel is enough for a row
    evaluated = []

    def wavelengths(rows):
        evaluated.extend(np.atleast_1d(rows).tolist())
        return lam[rows]

    return lam, wavelengths, evaluated


@pytest.mark.parametrize("finite_rows, n_rows", [(range(3, 18), 25), ([0], 1), ([5], 9), ([2, 30], 40),
                                                 (range(12), 12)])
def test_extreme_rows_as_the_whole_grid_gives(finite_rows, n_rows):
    lam, wavelengths, _evaluated = _grid_wavelengths(finite_rows, n_rows)
    rows = np.flatnonzero(np.isfinite(lam).any(axis=1))
    assert rows_with_wavelength(wavelengths, n_rows) == (rows.min(), rows.max())


def test_rows_between_the_extremes_are_not_evaluated():
    _, wavelengths, evaluated = _grid_wavelengths(range(3, 37), 40)
    assert rows_with_wavelength(wavelengths, 40, chunk=4) == (3, 36)
    assert len(evaluated) == 8 and len(set(evaluated)) == 8


def test_no_wavelength_anywhere():
    _, wavelengths, _ = _grid_wavelengths([], 10)
    assert rows_with_wavelength(wavelengths, 10) is None
