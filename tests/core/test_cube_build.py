"""cube_build in the core: the grid, the weights by hand, parity with jwst 3.0.0's own
cube kernels on the same point cloud, and the step end to end with a toy IFU plugin."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from spec2.algorithms import cube_grid, cube_params, cube_planes, cube_weights
from spec2.errors import InputError, ReferenceFileError
from spec2.steps import cube_build as step

from . import toy_ifu


def small_grid(n=7, scale=0.1, nz=40, step_=0.001):
    xc = cube_grid._centres(n, scale)
    zc = 1.0 + step_ * np.arange(nz) + step_ / 2
    return cube_grid.CubeGrid(0.0, 0.0, n + 1.0, n + 1.0, scale, scale, zc[0], 1.0, step_, xc, xc.copy(), zc)


# -- 1. the grid ------------------------------------------------------------------------


def test_sky_grid_by_hand():
    # corners 0.25" either side of the centre: ceil(0.25 / 0.1) + 1 = 4 spaxels each side
    ra, dec = toy_ifu.std_to_sky(np.array([-0.25, 0.25, 0.25, -0.25]), np.array([-0.15, -0.15, 0.15, 0.15]))
    g = cube_grid.sky_grid(ra, dec, 0.1, 1.0, 1.0105, 0.001)
    assert g.shape == (11, 7, 9)  # ceil(0.15 / 0.1) + 1 = 3 each side along y; ceil(10.5) planes
    assert (g.crpix1, g.crpix2, g.crpix3) == (5.0, 4.0, 1.0)
    assert g.crval1 == pytest.approx(toy_ifu.RA0, abs=1e-12) and g.crval2 == pytest.approx(toy_ifu.DEC0, abs=1e-9)
    assert g.crval3 == pytest.approx(1.0005) and g.zcoord[-1] == pytest.approx(1.0105)
    np.testing.assert_allclose(g.xcoord, np.arange(-4, 5) * 0.1, atol=1e-15)
    # the corners land where they were put, and a rotation of 90 degrees swaps the axes
    xi, _eta = cube_grid.tangent_plane(g.crval1, g.crval2, ra, dec)
    np.testing.assert_allclose(xi, [-0.25, 0.25, 0.25, -0.25], atol=1e-9)
    rot = cube_grid.sky_grid(ra, dec, 0.1, 1.0, 1.0105, 0.001, rot_angle=90.0)
    assert rot.shape == (11, 9, 7)
    # user choices: centre and number of spaxels
    g = cube_grid.sky_grid(ra, dec, 0.1, 1.0, 1.0105, 0.001, ra_center=10.0001, nspax_x=21, nspax_y=3)
    assert g.shape[1:] == (3, 21) and g.crval1 == 10.0001 and g.crpix1 == 11.0


def test_ra_wrapping_centre():
    assert cube_grid.circular_mean_ra(359.99, 0.01) == pytest.approx(0.0, abs=1e-9) or \
        cube_grid.circular_mean_ra(359.99, 0.01) == pytest.approx(360.0)
    np.testing.assert_allclose(cube_grid.wrap_ra([359.9, 0.1]), [359.9, 360.1])


def test_cube_parameters_from_cubepar_and_overrides():
    tables = step.cubepar_tables(toy_ifu.cubepar_model(scale=0.1, step=0.001, wmin=1.0, wmax=1.08))
    band = [("g140h", "f100lp")]
    cp = cube_params.cube_parameters(tables, band)
    assert (cp.scale, cp.wave_step, cp.wave_min, cp.wave_max) == pytest.approx((0.1, 0.001, 1.0, 1.08))
    cp = cube_params.cube_parameters(tables, band, scalexy=0.05, scalew=0.002, wavemin=1.01, wavemax=1.02)
    assert (cp.scale, cp.wave_step, cp.wave_min, cp.wave_max) == (0.05, 0.002, 1.01, 1.02)
    msm = cube_params.cube_parameters(tables, band, "msm")  # one exposure: ROI widened by 1.5
    assert (msm.rois, msm.roiw, msm.weight_power, msm.softrad) == pytest.approx((0.225, 0.002, 2.0, 0.01))
    emsm = cube_params.cube_parameters(tables, band, "emsm", rois=0.3)
    assert (emsm.rois, emsm.scalerad) == pytest.approx((0.3, 0.1))
    with pytest.raises(ReferenceFileError, match="cubepar reference has no row for G235H/F170LP"):
        cube_params.cube_parameters(tables, [("G235H", "F170LP")])


def test_output_type_groups():
    bands = [("1", "short"), ("2", "short"), ("1", "medium")]
    assert list(step.group_bands(bands, "band")) == ["1-short", "2-short", "1-medium"]
    assert step.group_bands(bands, "channel") == {"1": [("1", "short"), ("1", "medium")], "2": [("2", "short")]}
    assert step.group_bands(bands, "multi") == {"multi": bands}
    with pytest.raises(InputError, match="output_type"):
        step.group_bands(bands, "slice")


# -- 2. weights by hand -------------------------------------------------------------------


def test_drizzle_weights_of_one_pixel_by_hand():
    g = small_grid()
    # a 0.1" x 0.05" pixel at x in [-0.02, 0.08], y in [-0.01, 0.04]: 0.07 x 0.05 in spaxel
    # (x=0, y=0) and 0.03 x 0.05 in its right neighbour; wavelengths [1.0007, 1.0017] meet
    # plane 0 ([1.000, 1.001]) for 0.0003 and plane 1 for 0.0007
    xi = np.array([[-0.02, 0.08, 0.08, -0.02]])
    eta = np.array([[-0.01, -0.01, 0.04, 0.04]])
    s = cube_weights.drizzle_sums(g, xi, eta, np.array([1.0012]), np.array([0.001]), np.array([2.0]),
                                  np.array([0.5]))
    w = s.weight.reshape(g.shape)
    expected = {(0, 7, 7): 0.0035 * 0.0003, (0, 7, 8): 0.0015 * 0.0003,
                (1, 7, 7): 0.0035 * 0.0007, (1, 7, 8): 0.0015 * 0.0007}
    for index, value in expected.items():
        assert w[index] == pytest.approx(value, rel=1e-9)
    assert np.count_nonzero(w) == 4 and s.count.sum() == 4
    np.testing.assert_allclose(s.flux[s.weight > 0], 2.0 * s.weight[s.weight > 0])
    np.testing.assert_allclose(s.var[s.weight > 0], (0.5 * s.weight[s.weight > 0]) ** 2)


def test_drizzle_overlap_of_a_diamond_by_hand():
    # a square turned 45 degrees centred on the corner of four spaxels: a quarter each
    d = 0.05
    qx = np.array([[0.05 - d, 0.05, 0.05 + d, 0.05]])
    qy = np.array([[0.05, 0.05 - d, 0.05, 0.05 + d]])
    areas = [cube_weights.quad_square_overlap(qx, qy, np.array([cx]), np.array([cy]), 0.05, 0.05)[0]
             for cx, cy in ((0, 0), (0.1, 0), (0, 0.1), (0.1, 0.1), (0.2, 0.2))]
    np.testing.assert_allclose(areas, [0.00125] * 4 + [0.0], atol=1e-15)


def test_emsm_and_msm_weights_by_hand():
    g = small_grid()
    x, y, wave = np.array([0.03]), np.array([0.0]), np.array([g.zcoord[5]])
    one = np.array([1.0])
    e = cube_weights.shepard_sums(g, x, y, wave, one, one, "emsm", rois=0.05, roiw=0.0005, scalerad=0.1)
    # only spaxel (7, 7) is within 0.05": distance 0.3 spaxel, same plane
    w = e.weight.reshape(g.shape)
    assert np.count_nonzero(w) == 1 and w[5, 7, 7] == pytest.approx(math.exp(-0.09 / (0.1 / 0.1)))
    m = cube_weights.shepard_sums(g, x, y, wave, one, one, "msm", rois=0.08, roiw=0.0015, power=2.0, softrad=0.01)
    w = m.weight.reshape(g.shape)
    # (7, 7) at 0.3 spaxel and (7, 8) at 0.7: planes 4, 5, 6 at dz = 1, 0, 1
    assert w[5, 7, 7] == pytest.approx(1 / 0.09) and w[5, 7, 8] == pytest.approx(1 / 0.49)
    assert w[4, 7, 7] == pytest.approx(1 / 1.09) and np.count_nonzero(w) == 6


def test_drizzle_conserves_flux_on_a_tiling():
    # pixels that tile the field exactly, flux zero at the edges: the cube holds the same flux
    xi, eta, xc, yc, wave, dwave = toy_ifu.geometry()
    f = toy_ifu.scene(xc, yc, wave)
    g = cube_grid.CubeGrid(0, 0, 9, 9, 0.1, 0.1, 1.0005, 1, 0.001, cube_grid._centres(8, 0.1),
                           cube_grid._centres(8, 0.1), 1.0005 + 0.001 * np.arange(80))
    s = cube_weights.drizzle_sums(g, xi, eta, wave, dwave, f, np.full(f.size, 0.1), chunk=1000)
    sci, err, dq, wmap = cube_planes.cube_planes(s, g.shape)
    assert np.nansum(sci.astype(float)) * 0.1 * 0.1 * 0.001 == pytest.approx((f * 0.2 * 0.1 * 0.001).sum(), rel=1e-6)
    # an inner voxel holds half of two pixels across and half of two along, one plane
    # each: four equal weights, so ERR = sqrt(4 (0.1 w)^2) / 4w = 0.05
    assert wmap[40, 8, 8] == 4 and err[40, 8, 8] == pytest.approx(0.05)
    # a uniform scene comes out uniform wherever there is data
    s = cube_weights.drizzle_sums(g, xi, eta, wave, dwave, np.full(f.size, 3.0), np.full(f.size, 0.1))
    sci, _err, dq, _wmap = cube_planes.cube_planes(s, g.shape)
    np.testing.assert_allclose(sci[dq == 0], 3.0, rtol=1e-6)
    assert np.isnan(sci[dq != 0]).all() and set(np.unique(dq)) == {0, 513}


# -- 3. parity with jwst 3.0.0's own kernels ---------------------------------------------


def random_cloud(n=1500, seed=3):
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(-0.6, 0.6, n), rng.uniform(-0.6, 0.6, n)
    ang = rng.uniform(0, np.pi / 2, n)
    ox = np.array([-0.5, 0.5, 0.5, -0.5]) * 0.1
    oy = np.array([-0.5, -0.5, 0.5, 0.5]) * 0.05
    xi = cx[:, None] + np.cos(ang)[:, None] * ox - np.sin(ang)[:, None] * oy
    eta = cy[:, None] + np.sin(ang)[:, None] * ox + np.cos(ang)[:, None] * oy
    wave, dwave = rng.uniform(1.0, 1.04, n), rng.uniform(0.0005, 0.002, n)
    return cx, cy, xi, eta, wave, dwave, rng.normal(1, 0.3, n), rng.uniform(0.01, 0.1, n)


def jwst_planes(grid, result, interpolation):
    """SCI, ERR, DQ, WMAP through jwst 3.0.0's own normalisation and DQ code."""
    from jwst.cube_build.ifu_cube import IFUCubeData

    flux, weight, var, iflux, dq = (np.asarray(a) for a in result)
    nz, ny, nx = grid.shape
    cube = SimpleNamespace(interpolation=interpolation, spaxel_flux=flux.copy(), spaxel_weight=weight,
                           spaxel_var=var.copy(), spaxel_iflux=iflux, spaxel_dq=np.asarray(dq, np.uint32),
                           overlap_partial=4, overlap_full=2, overlap_hole=1, overlap_no_coverage=512,
                           naxis1=nx, naxis2=ny, naxis3=nz)
    IFUCubeData.find_spaxel_flux(cube)
    IFUCubeData.set_final_dq_flags(cube)
    sci, v, dq = (a.reshape(grid.shape) for a in (cube.spaxel_flux, cube.spaxel_var, cube.spaxel_dq))
    dnu = (dq & 1) != 0
    sci[dnu], v[dnu] = np.nan, np.nan
    return sci, np.sqrt(v), dq, iflux.reshape(grid.shape)


def assert_planes_equal(mine, theirs):
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(np.nan_to_num(a.astype(float)), np.nan_to_num(b.astype(float)), rtol=1e-6, atol=0)


def test_drizzle_parity_with_jwst_kernel():
    from jwst.cube_build.cube_match_sky_driz import cube_wrapper_driz

    g = small_grid()
    cx, cy, xi, eta, wave, dwave, flux, err = random_cloud()
    n = len(cx)
    c = lambda a: np.ascontiguousarray(a)
    cd3 = g.cdelt3_normal
    result = cube_wrapper_driz(1, 0, 0, 0, 4, 2, g.xcoord, g.ycoord, g.zcoord, cx, cy, wave, flux, err, np.ones(n),
                               c(xi[:, 0]), c(eta[:, 0]), c(xi[:, 1]), c(eta[:, 1]), c(xi[:, 2]), c(eta[:, 2]),
                               c(xi[:, 3]), c(eta[:, 3]), dwave, cd3, g.cdelt1, g.cdelt2, np.mean(cd3), 1,
                               np.zeros(n), np.zeros(n), -1)
    mine = cube_weights.drizzle_sums(g, xi, eta, wave, dwave, flux, err, chunk=500)
    planes = cube_planes.cube_planes(mine, g.shape)
    assert np.count_nonzero(planes[2] == 0) > 1000
    assert_planes_equal(planes, jwst_planes(g, result, "drizzle"))


@pytest.mark.parametrize("weighting", ["emsm", "msm"])
def test_shepard_parity_with_jwst_kernel(weighting):
    from jwst.cube_build.cube_match_sky_pointcloud import cube_wrapper

    g = small_grid()
    cx, cy, _, _, wave, _, flux, err = random_cloud(seed=4)
    n = len(cx)
    rois, roiw, scalerad, power, softrad = 0.15, 0.002, 0.1, 2.0, 0.01
    full = lambda v: np.full(n, v)
    result = cube_wrapper(1, 0, 0 if weighting == "emsm" else 1, 0, 0, 4, 2, g.xcoord, g.ycoord, g.zcoord, cx, cy,
                          wave, flux, err, np.ones(n), full(rois), full(roiw), full(scalerad), full(power),
                          full(softrad), g.cdelt3_normal, roiw, g.cdelt1, g.cdelt2)
    mine = cube_weights.shepard_sums(g, cx, cy, wave, flux, err, weighting, rois, roiw, scalerad, power, softrad,
                                     chunk=400)
    assert_planes_equal(cube_planes.cube_planes(mine, g.shape), jwst_planes(g, result, "pointcloud"))


def test_cube_wcs_equals_jwst_fits_wcs():
    from jwst.assign_wcs.pointing import create_fitswcs
    from stdatamodels.jwst import datamodels

    model = datamodels.IFUImageModel((72, 80))
    model.data[:] = 1.0
    pixels = toy_ifu.pixels_of(model)
    cubes = step.build_cubes(model, pixels, step.cubepar_tables(toy_ifu.cubepar_model()),
                             {"cube_pa": 30.0, "weighting": "drizzle"})
    cube = cubes[0][1]
    cube.meta.coordinates.reference_frame = "ICRS"
    theirs = create_fitswcs(cube)
    x, y, z = np.meshgrid([0, 3.5, 10], [0, 7], [0, 40.2])
    np.testing.assert_allclose(np.array(cube.meta.wcs(x, y, z)), np.array(theirs(x, y, z)), rtol=1e-12)
    assert cube.meta.wcs.bounding_box.bounding_box(order="F") == \
        ((0, cube.data.shape[2] - 1), (0, cube.data.shape[1] - 1), (0, cube.data.shape[0] - 1))


# -- 4. the step end to end ---------------------------------------------------------------


def run_toy(tmp_path, settings=None, value=None, plugin=None):
    from spec2.batch import process
    from spec2.pipeline import RunOptions
    from spec2.plugins import get_plugin_manager

    tmp_path.mkdir(exist_ok=True)
    path = toy_ifu.write_ifu_rate(tmp_path / "jw01_rate.fits", value=value)
    pm = get_plugin_manager([plugin or toy_ifu.ToyIFUPlugin()], load_entrypoints=False)
    opts = RunOptions(tmp_path / "out", overrides={"cubepar": toy_ifu.cubepar_model()}, settings=settings or {})
    results, _ = process([path], opts, jobs=1, pm=pm)
    return results[0], tmp_path / "out" / "jw01_s3d.fits"


def test_step_writes_a_cube_that_conserves_flux_and_opens_in_jwst_and_specutils(tmp_path):
    from specutils import Spectrum
    from stdatamodels.jwst import datamodels

    result, path = run_toy(tmp_path)
    assert result.ok and path.is_file()
    _xi, _eta, xc, yc, wave, _dwave = toy_ifu.geometry()
    truth = (toy_ifu.scene(xc, yc, wave).astype(np.float32) * 0.2 * 0.1 * 0.001).sum()
    with datamodels.open(path) as cube:
        assert isinstance(cube, datamodels.IFUCubeModel)
        assert cube.meta.cal_step.cube_build == "COMPLETE" and cube.meta.ifu.weighting == "drizzle"
        assert np.nansum(cube.data.astype(float)) * 0.1 * 0.1 * 0.001 == pytest.approx(truth, rel=1e-5)
        ra, dec, lam = cube.meta.wcs(cube.meta.wcsinfo.crpix1 - 1, cube.meta.wcsinfo.crpix2 - 1, 0)
        assert (ra, dec) == pytest.approx((toy_ifu.RA0, toy_ifu.DEC0), abs=1e-9) and lam == pytest.approx(1.0005)
        assert cube.weightmap.max() > 0 and cube.wavetable["wavelength"].size == cube.data.shape[0]
    spec = Spectrum.read(path, format="JWST s3d")
    assert len(spec.spectral_axis) == 81 and spec.spectral_axis[0].value == pytest.approx(1.0005)


@pytest.mark.parametrize("weighting", ["emsm", "msm"])
def test_step_shepard_weightings_keep_a_uniform_scene(tmp_path, weighting):
    from stdatamodels.jwst import datamodels

    result, path = run_toy(tmp_path, {"cube_build": {"weighting": weighting}}, value=2.0)
    assert result.ok
    with datamodels.open(path) as cube:
        np.testing.assert_allclose(cube.data[cube.dq == 0], 2.0, rtol=1e-6)
        assert cube.meta.ifu.weighting == weighting and cube.meta.ifu.roi_spatial > 0


def test_step_ifualign_and_overrides(tmp_path):
    from stdatamodels.jwst import datamodels

    result, path = run_toy(tmp_path, {"cube_build": {"coord_system": "ifualign", "scalexy": 0.05, "scalew": 0.002,
                                                     "wavemin": 1.01, "wavemax": 1.049}})
    assert result.ok
    with datamodels.open(path) as cube:
        assert cube.data.shape[0] == 20 and cube.meta.wcsinfo.cdelt1 == pytest.approx(0.05 / 3600)
        assert cube.meta.wcsinfo.crval3 == pytest.approx(1.011)
        # turned by the plugin's IFU angle (90): x runs along the slices, north
        info = cube.meta.wcsinfo
        assert (info.pc1_1, info.pc1_2, info.pc2_1, info.pc2_2) == pytest.approx((0, 1, 1, 0), abs=1e-12)
        ra0, dec0, _ = cube.meta.wcs(info.crpix1 - 1, info.crpix2 - 1, 0)
        ra1, dec1, _ = cube.meta.wcs(info.crpix1, info.crpix2 - 1, 0)
        assert ra1 == pytest.approx(ra0, abs=1e-10) and (dec1 - dec0) * 3600 == pytest.approx(0.05, rel=1e-6)


def test_output_type_groups_the_bands_of_an_exposure(tmp_path):
    from stdatamodels.jwst import datamodels

    plugin = toy_ifu.ToyIFUPlugin(filters=("F100LP", "F070LP"))
    # two bands, one cube per band: spec2 writes one _s3d per exposure, so it refuses
    result, path = run_toy(tmp_path / "band", plugin=plugin)
    assert not result.ok and "makes 2 cubes" in result.error and "g140h-f100lp, g140h-f070lp" in result.error
    assert not path.exists()
    # one cube for the grating: the finest spaxel of the two bands, every pixel of both
    result, path = run_toy(tmp_path / "grating", {"cube_build": {"output_type": "grating"}}, plugin=plugin)
    assert result.ok
    with datamodels.open(path) as cube, datamodels.open(run_toy(tmp_path / "one")[1]) as one:
        assert cube.meta.wcsinfo.cdelt1 == pytest.approx(0.1 / 3600)
        np.testing.assert_array_equal(cube.weightmap, 2 * one.weightmap)
        np.testing.assert_allclose(cube.data, one.data, rtol=1e-6)


def test_an_exposure_with_no_valid_pixel_fails_and_writes_no_cube(tmp_path):
    result, path = run_toy(tmp_path, {"cube_build": {"wavemin": 3.0, "wavemax": 3.1}})
    record = {s.name: s.status for s in result.steps}
    assert record["cube_build"] == "FAILED" and not path.exists()


# -- the DQ plane: field of view and holes -----------------------------------------------


def test_line_cells_walk_as_jwst_by_hand():
    from spec2.algorithms.cube_dq import line_cells

    line, col, row = line_cells(np.array([0, 1]), np.array([0, 0]), np.array([4, 2]), np.array([2, 5]))
    cells = list(zip(line.tolist(), col.tolist(), row.tolist()))
    # a shallow line: Bresenham's cells
    assert [c[1:] for c in cells if c[0] == 0] == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2)]
    # a steep one: jwst's endpoint swap keeps only the rows, the diagonal from row 0 to 5
    assert [c[1:] for c in cells if c[0] == 1] == [(k, k) for k in range(6)]


def test_final_dq_holes_by_hand():
    from spec2.algorithms.cube_dq import final_dq

    shape = (1, 5, 5)
    fov = np.zeros(shape, bool)
    fov[0, 1:4, 1:4] = True
    fov[0, 0, 0] = True  # in the field on the cube's edge, no data: never a hole
    weight = fov.astype(float)
    weight[0, 0, 0] = weight[0, 1, 2] = weight[0, 2, 2] = weight[0, 2, 3] = 0.0
    dq = final_dq(weight.ravel(), fov.ravel(), shape)[0]
    assert dq[1, 2] == 1 and dq[2, 2] == 1  # holes: their NON_SCIENCE neighbours are on the edge row
    assert dq[2, 3] == 513  # next to NON_SCIENCE (2, 4)
    assert dq[0, 0] == 513 and dq[1, 1] == 0 and dq[4, 4] == 513
    no_fov = final_dq(weight.ravel(), None, shape)[0]
    assert set(np.unique(no_fov)) == {0, 513}


def slice_cloud(seed=5, nz=30, n=12):
    """30 slices as lines across a small cube at a random angle, each pixel one
    wavelength, 30 % of the pixels missing (holes in the field)."""
    rng = np.random.default_rng(seed)
    g = small_grid(n=n, nz=nz)
    ang = rng.uniform(0, np.pi)
    t = np.linspace(-0.8, 0.8, 40)
    s, col, tt = np.meshgrid(np.arange(30), np.arange(nz), t, indexing="ij")
    off = (s - 15) * 0.03
    x = (tt * np.cos(ang) - off * np.sin(ang)).ravel()
    y = (tt * np.sin(ang) + off * np.cos(ang)).ravel()
    wave = (g.zcoord[0] + col * 0.001 + 0.0002 * s / 30).ravel() + rng.uniform(-0.5, 0.5, x.size) * 0.001
    keep = rng.uniform(size=x.size) > 0.3
    x, y, wave, slc = x[keep], y[keep], wave[keep], (s.ravel() + 1)[keep]
    return g, x, y, wave, slc


@pytest.mark.parametrize("weighting", ["drizzle", "emsm"])
def test_field_of_view_dq_parity_with_jwst_kernel(weighting):
    from jwst.cube_build.cube_match_sky_driz import cube_wrapper_driz
    from jwst.cube_build.cube_match_sky_pointcloud import cube_wrapper

    from spec2.algorithms import cube_dq

    g, x, y, wave, slc = slice_cloud()
    m = x.size
    one = np.ones(m)
    cd3 = g.cdelt3_normal
    if weighting == "drizzle":
        dwave = np.full(m, 0.0004)
        xi, eta = x[:, None] + np.array([-1, 1, 1, -1]) * 0.005, y[:, None] + np.array([-1, -1, 1, 1]) * 0.005
        c = np.ascontiguousarray
        result = cube_wrapper_driz(1, 1, 0, 0, 4, 2, g.xcoord, g.ycoord, g.zcoord, x, y, wave, one, one,
                                   slc.astype(float), c(xi[:, 0]), c(eta[:, 0]), c(xi[:, 1]), c(eta[:, 1]),
                                   c(xi[:, 2]), c(eta[:, 2]), c(xi[:, 3]), c(eta[:, 3]), dwave, cd3, g.cdelt1,
                                   g.cdelt2, np.mean(cd3), 1, np.zeros(m), np.zeros(m), -1)
        sums = cube_weights.drizzle_sums(g, xi, eta, wave, dwave, one, one)
        roiw = np.mean(cd3)
    else:
        roiw = 0.0008
        result = cube_wrapper(1, 1, 0, 0, 0, 4, 2, g.xcoord, g.ycoord, g.zcoord, x, y, wave, one, one,
                              slc.astype(float), np.full(m, 0.04), np.full(m, roiw), np.full(m, 0.1), np.full(m, 2.0),
                              np.full(m, 0.01), cd3, roiw, g.cdelt1, g.cdelt2)
        sums = cube_weights.shepard_sums(g, x, y, wave, one, one, "emsm", 0.04, roiw, 0.1)
    theirs = jwst_planes(g, result, "drizzle" if weighting == "drizzle" else "pointcloud")
    mine = cube_planes.cube_planes(sums, g.shape, cube_dq.field_of_view(g, x, y, wave, slc, roiw))
    assert np.count_nonzero(theirs[2] == 1) > 10  # the cloud has holes jwst flags
    assert_planes_equal(mine, theirs)


def test_step_flags_holes_in_the_field_unless_skip_dqflagging():
    from stdatamodels.jwst import datamodels

    model = datamodels.IFUImageModel((72, 80))
    model.data[:] = 1.0
    model.dq[20:23, :] = 1  # three rows along slice 2 unusable: holes in the field
    tables = step.cubepar_tables(toy_ifu.cubepar_model())
    pixels = toy_ifu.pixels_of(model)
    # at 90 degrees the slices run along the cube's x axis: the field-of-view line of
    # slice 2 crosses the gap (at 0 degrees jwst's steep-line walk draws a diagonal instead)
    cube = step.build_cubes(model, pixels, tables, {"cube_pa": 90.0})[0][1]
    assert np.count_nonzero(cube.dq == 1) == 160  # two spaxels in each of the 80 planes
    assert np.isnan(cube.data[cube.dq == 1]).all()
    cube = step.build_cubes(model, pixels, tables, {"cube_pa": 90.0, "skip_dqflagging": True})[0][1]
    assert set(np.unique(cube.dq)) == {0, 513}
