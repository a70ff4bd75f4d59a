"""The cube_build drizzle kernel against jwst 3.0.0's C kernel on one point cloud.

    python benchmarks/cube_build_core.py [--pixels 1000000] [--planes 1000] [--repeat 1]

A NIRSpec-like exposure is made up: 30 slices of 0.1" side by side, pixels 0.1" across
and ~0.1" along the slice (slightly tilted, so footprints straddle spaxels), each
detector column a wavelength; the cube has 0.1" spaxels and ``--planes`` wavelength
planes of the columns' width, as the cubepar gives for a grating. Both kernels get the
same tangent-plane corners, wavelengths and fluxes; the script prints the seconds each
takes (the best of ``--repeat``), their peak resident memory growth, and the largest
relative difference of SCI where the cube has data.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def cloud(n_pixels, n_planes, seed=1):
    """(grid, xi, eta, x, y, wave, dwave, flux, err) for ~n_pixels pixels."""
    from spec2.algorithms.cube_grid import CubeGrid, _centres

    rng = np.random.default_rng(seed)
    nslice, ncol = 30, n_planes
    nalong = max(1, n_pixels // (nslice * ncol))
    s, a, c = np.meshgrid(np.arange(nslice), np.arange(nalong), np.arange(ncol), indexing="ij")
    s, a, c = s.ravel(), a.ravel(), c.ravel()
    tilt = 0.02 * (c / ncol)  # the trace tilts across the detector: footprints move
    x = (s - nslice / 2 + 0.5) * 0.1 + 0.013
    y = (a - nalong / 2 + 0.5) * 0.1 + tilt + 0.007
    dx = np.array([-0.05, 0.05, 0.05, -0.05])
    dy = np.array([-0.05, -0.05, 0.05, 0.05])
    xi, eta = x[:, None] + dx, y[:, None] + dy + 0.01 * dx  # a slight shear: not axis-aligned
    dz = 1.0 / n_planes
    wave = 1.0 + (c + 0.5 + 0.3 * (s % 3) / 3) * dz
    dwave = np.full(wave.size, dz)
    flux = rng.normal(1.0, 0.1, wave.size)
    err = np.full(wave.size, 0.05)
    nx = int(np.ceil(nslice / 2)) + 2
    ny = int(np.ceil(nalong / 2)) + 2
    zc = 1.0 + dz / 2 + dz * np.arange(n_planes)
    grid = CubeGrid(0, 0, nx + 1, ny + 1, 0.1, 0.1, zc[0], 1, dz, _centres(nx, 0.1), _centres(ny, 0.1), zc)
    return grid, xi, eta, x, y, wave, dwave, flux, err


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_spec2(grid, xi, eta, wave, dwave, flux, err):
    from spec2.algorithms.cube_planes import cube_planes
    from spec2.algorithms.cube_weights import drizzle_sums

    return cube_planes(drizzle_sums(grid, xi, eta, wave, dwave, flux, err), grid.shape)


def run_jwst(grid, xi, eta, x, y, wave, dwave, flux, err):
    from jwst.cube_build.cube_match_sky_driz import cube_wrapper_driz

    n = wave.size
    c = np.ascontiguousarray
    cd3 = grid.cdelt3_normal
    f, w, _v, i, _ = cube_wrapper_driz(1, 0, 0, 0, 4, 2, grid.xcoord, grid.ycoord, grid.zcoord, x, y, wave, flux, err,
                                      np.ones(n), c(xi[:, 0]), c(eta[:, 0]), c(xi[:, 1]), c(eta[:, 1]), c(xi[:, 2]),
                                      c(eta[:, 2]), c(xi[:, 3]), c(eta[:, 3]), dwave, cd3, grid.cdelt1, grid.cdelt2,
                                      np.mean(cd3), 1, np.zeros(n), np.zeros(n), -1)
    good = np.asarray(i) > 0
    sci = np.full(good.size, np.nan)
    sci[good] = np.asarray(f)[good] / np.asarray(w)[good]
    return sci.reshape(grid.shape)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixels", type=int, default=1_000_000)
    ap.add_argument("--planes", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", choices=("spec2", "jwst"), help="run one side (for its own peak memory)")
    args = ap.parse_args(argv)
    grid, xi, eta, x, y, wave, dwave, flux, err = cloud(args.pixels, args.planes)
    print(f"{wave.size} pixels, cube {grid.shape[2]} x {grid.shape[1]} x {grid.shape[0]} planes")
    results = {}
    for name in ("spec2", "jwst"):
        if args.only and name != args.only:
            continue
        before = peak_mb()
        best = np.inf
        for _ in range(args.repeat):
            t = time.perf_counter()
            if name == "spec2":
                results[name] = run_spec2(grid, xi, eta, wave, dwave, flux, err)[0]
            else:
                results[name] = run_jwst(grid, xi, eta, x, y, wave, dwave, flux, err)
            best = min(best, time.perf_counter() - t)
        print(f"{name:6s} {best:7.2f} s   peak memory +{peak_mb() - before:.0f} MB")
    if len(results) == 2:
        a, b = results["spec2"].astype(float), results["jwst"]
        both = np.isfinite(a) & np.isfinite(b)
        same = np.array_equal(np.isfinite(a), np.isfinite(b))
        print(f"SCI: same voxels with data: {same}; largest relative difference "
              f"{np.max(np.abs(a[both] - b[both]) / np.abs(b[both])):.2e}")


if __name__ == "__main__":
    main()
