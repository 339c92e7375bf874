"""Dappled shade (detect.dapple): patches of shade are lifted each by its own factor with a fitted soft border, a crack
under them is found in shade and sun alike, and dark objects are not taken for shade."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from conftest import asphalt
from helpers import paint_line

import schouw.detect.light as light_mod
from schouw.detect.base import defects_mask
from schouw.detect.crack_mlp import CrackMLP, default_model_dir
from schouw.detect.dapple import lift_dapples, shade_factors
from schouw.detect.light import even_light, light_level
from schouw.detect.road import RoadParams, detect_cracks

P = RoadParams()
ONES = np.ones((320, 480), bool)


def _dapple(depth: float, sigma_px: float, seed: int, h: int = 320, w: int = 480) -> tuple[np.ndarray, np.ndarray]:
    """Light factor of leaves' shade (blobs some 80 px across, a third of the photo, borders blurred by ``sigma_px``)
    and the shade itself before blurring (bool), as ``score_cracks.py --alter dapple`` paints it."""
    coarse = np.random.default_rng(seed).normal(0, 1, (h // 80 + 2, w // 80 + 2)).astype(np.float32)
    hard = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) > 0
    return (1 - (1 - depth) * cv2.GaussianBlur(hard.astype(np.float32), (0, 0), sigma_px)).astype(np.float32), hard


def _lift(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    return even_light(g, ONES, P.light_ratio_max, P.light_step_max, patch_ratio_max=P.light_patch_ratio_max)


@pytest.mark.parametrize("sigma_px", [1.0, 2.0, 4.0])
def test_dappled_shade_is_lifted_to_the_sun_and_its_borders_marked(sigma_px):
    """Whatever the softness of the borders (fitted, not assumed), the lifted shade is within a few per cent of the
    unshaded road a little way in, the sun is left as it is, and the shadow edge follows the borders only."""
    road = asphalt(320, 480)[0].astype(np.float32)
    light, hard = _dapple(0.5, sigma_px, seed=5)
    g = np.clip(road * light, 0, 255).astype(np.uint8)
    out, edge = _lift(g)
    to_border = cv2.distanceTransform(hard.astype(np.uint8), cv2.DIST_L2, 5) + cv2.distanceTransform(
        (~hard).astype(np.uint8), cv2.DIST_L2, 5)
    ratio = out.astype(np.float32) / np.maximum(road, 1)
    inside = hard & (to_border > 3 * sigma_px)
    assert abs(float(np.median(ratio[inside])) - 1) < 0.04
    assert abs(float(np.median(ratio[~hard & (to_border > 3 * sigma_px)])) - 1) < 0.005
    for a in range(1, 6):  # no bright or dark rim along the border
        assert abs(float(ratio[(to_border >= a) & (to_border < a + 1)].mean()) - 1) < 0.05
    assert edge[to_border <= 1].mean() > 0.9
    assert np.percentile(to_border[edge], 99) <= 2 * sigma_px + 2  # a band along them (corners are rounded a little)
    assert not edge[to_border > 8].any()


def test_dark_objects_are_not_taken_for_shade():
    """Two dark, smooth objects (a car's roof, a bin) darken the photo in two broad patches as leaves' shade would, but
    they do not have the road's texture: no patch is shade, and the photo is left to the median light. The same two
    patches as shade (the road's texture in half the light) are two patches of factor 0.5."""
    g = asphalt(320, 480)[0].copy()
    shaded = g.astype(np.float32)
    rng = np.random.default_rng(1)
    for y, x in ((40, 60), (180, 300)):
        g[y : y + 100, x : x + 120] = np.clip(40 + rng.normal(0, 1.5, (100, 120)), 0, 255).astype(np.uint8)
        shaded[y : y + 100, x : x + 120] *= 0.5
    shaded = shaded.astype(np.uint8)
    objects_half, objects_inside = light_level(g, ONES, 2, 1)
    assert shade_factors(objects_half, objects_inside)[1] == 0
    assert lift_dapples(g, ONES, objects_half, objects_inside, 2, 2) is None
    factors, n, _, _ = shade_factors(*light_level(shaded, ONES, 2, 1))
    assert n == 2
    assert np.allclose(factors[30:60, 40:80], 0.5, atol=0.03)  # the first patch, at half size
    out, _ = _lift(shaded)
    assert abs(float(out[60:120, 80:160].mean()) / float(out[150:170, 200:280].mean()) - 1) < 0.03


@pytest.mark.parametrize("seed", [5, 7])
def test_a_crack_under_dappled_shade_is_found_and_the_borders_are_not(seed, monkeypatch):
    """A faint crack through leaves' shade (close range, the learned stage) is found in the shade and in the sun, and
    the patches' borders are not cracks. Lit by the median light instead, the crack is lost in the shade or the
    borders are marked: on seed 7 the median light's borders made the photo look closer, and since road-classic 0.36.0
    the photo is then judged as it is, unlit, where the crack is found but over 250 stray pixels are marked.
    (Since road-classic 0.38.0 a photo not taken for dappled is lifted patch by patch too, as one cast shadow: the
    counterfactual turns the patch way off.)"""
    model = CrackMLP.load(default_model_dir())
    img = np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1))
    line = paint_line(img, [(40, 160), (240, 170), (440, 150)], 2, 0.7)
    light, hard = _dapple(0.5, 2.0, seed)
    img = np.clip(img * light[..., None], 0, 255).astype(np.uint8)
    near = cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    def found() -> tuple[float, float, int]:
        mask = defects_mask(detect_cracks(img, ONES, ONES, 0.002, P, model=model), img.shape[:2])
        hit = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        return float(hit[line & hard].mean()), float(hit[line & ~hard].mean()), int((mask & ~near).sum())

    in_shade, in_sun, stray = found()
    assert in_shade > 0.9 and in_sun > 0.9
    assert stray < 150
    monkeypatch.setattr(light_mod, "_lift_patches", lambda *a: None)  # the median light
    in_shade, _, stray = found()
    assert in_shade < 0.5 or stray > 250


def test_patches_of_different_depth_each_get_their_own_factor():
    """Leaves of different thickness: one patch at 0.4 of the light, one at 0.7. Each is lifted by its own factor (one
    factor for both would leave one of them 40 % off), and 2-5 px from either border the road is within 6 % of the
    sun's: one softness and place of the border is fitted for the photo, and it suits both."""
    road = asphalt(320, 480)[0].astype(np.float32)
    yy, xx = np.mgrid[0:320, 0:480]
    deep = np.hypot(yy - 110, xx - 130) < 70
    light = (xx > 300) & (yy > 140)
    factor = np.where(deep, 0.4, np.where(light, 0.7, 1.0)).astype(np.float32)
    factor = cv2.GaussianBlur(factor, (0, 0), 1.5)
    g = np.clip(road * factor, 0, 255).astype(np.uint8)
    out, edge = _lift(g)
    assert edge is not None and edge.any()
    ratio = out.astype(np.float32) / np.maximum(road, 1)
    for patch in (deep, light):
        to_border = cv2.distanceTransform(patch.astype(np.uint8), cv2.DIST_L2, 5) + cv2.distanceTransform(
            (~patch).astype(np.uint8), cv2.DIST_L2, 5)
        assert abs(float(np.median(ratio[patch & (to_border > 6)])) - 1) < 0.04
        for a in range(2, 6):  # both sides of the border, away from the other patch
            ring = (to_border >= a) & (to_border < a + 1) & ~(deep if patch is light else light)
            assert abs(float(ratio[ring].mean()) - 1) < 0.06


def _cast_shadow(depth: float, ramp_px: float, h: int = 320, w: int = 480) -> tuple[np.ndarray, np.ndarray]:
    """Light factor of a slanted cast shadow (``depth`` beyond its edge, a linear ramp ``ramp_px`` wide) and each
    pixel's distance past the edge (px)."""
    yy, xx = np.mgrid[0:h, 0:w]
    d = (xx - 0.3 * yy - 200.0) / np.hypot(1, 0.3)
    return (1 - (1 - depth) * np.clip(d / ramp_px + 0.5, 0, 1)).astype(np.float32), d


@pytest.mark.parametrize("darkness", [0.7, 0.8])
def test_a_light_shadows_edge_is_no_crack(darkness):
    """A shadow that takes 30 % of the light is uneven by less than ``light_ratio_max`` (1.43 against 1.7), so the
    median light leaves it as it is, and its edge is a long false crack. Lifted as one patch of shade, the crack
    through it is found on both sides and the edge is not a crack."""
    model = CrackMLP.load(default_model_dir())
    img = np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1))
    line = paint_line(img, [(40, 160), (240, 170), (440, 150)], 2, darkness)
    light, d = _cast_shadow(0.7, 6.0)
    img = np.clip(img * light[..., None], 0, 255).astype(np.uint8)
    near = cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    def found(params: RoadParams) -> tuple[float, float, int]:
        mask = defects_mask(detect_cracks(img, ONES, ONES, 0.002, params, model=model), img.shape[:2])
        hit = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        return float(hit[line & (d > 10)].mean()), float(hit[line & (d < -10)].mean()), int((mask & ~near).sum())

    in_shade, in_sun, stray = found(P)
    assert in_shade > 0.9 and in_sun > 0.9 and stray < 100
    _, _, stray = found(dataclasses.replace(P, light_patch_ratio_max=P.light_ratio_max))  # the median light only
    assert stray > 400


@pytest.mark.parametrize("ramp_px, lifted", [(6.0, True), (60.0, False), (120.0, False)])
def test_a_slow_change_of_light_is_not_a_shadows_edge(ramp_px, lifted):
    """The same 0.7 shadow with an edge 6 px wide is lifted; with one 60 or 120 px wide (light falling off, or a
    lighter surface beside a darker one) the fitted border is as soft as the fit allows, and the photo is left to the
    median light, which leaves a change this mild as it is."""
    light, _ = _cast_shadow(0.7, ramp_px)
    g = np.clip(asphalt(320, 480)[0] * light, 0, 255).astype(np.uint8)
    out, edge = _lift(g)
    assert (edge is not None) == lifted
    assert (out is g) != lifted


@pytest.mark.parametrize("darkness", [0.7, 0.8])
@pytest.mark.parametrize("radius_px", [62, 38])
def test_sunflecks_in_one_patch_of_shade_are_dappled_shade(darkness, radius_px, monkeypatch):
    """Under a tree the shade may be one patch with sunflecks in it (here four, 62 px in radius, a third of the photo,
    or 38 px, an eighth): the light part, not the dark one, falls in several patches. That is dappled shade too, and
    one patch of shade is enough: the crack is found and the flecks' borders are not cracks. Lifted by the median light
    instead, the borders are marked."""
    model = CrackMLP.load(default_model_dir())
    img = np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1))
    line = paint_line(img, [(40, 160), (240, 170), (440, 150)], 2, darkness)
    sun = np.zeros((320, 480), np.float32)
    for cy, cx in ((70, 90), (250, 200), (90, 330), (230, 420)):
        cv2.circle(sun, (cx, cy), radius_px, 1.0, -1)
    light = 0.5 + 0.5 * cv2.GaussianBlur(sun, (0, 0), 2.0)
    img = np.clip(img * light[..., None], 0, 255).astype(np.uint8)
    near = cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    def found() -> tuple[float, int]:
        mask = defects_mask(detect_cracks(img, ONES, ONES, 0.002, P, model=model), img.shape[:2])
        hit = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        return float(hit[line].mean()), int((mask & ~near).sum())

    on_crack, stray = found()
    assert on_crack > 0.95 and stray < 80
    monkeypatch.setattr(light_mod, "_lift_patches", lambda *a: None)  # the median light
    _, stray = found()
    assert stray > 120


def test_a_cast_shadows_ramp_border_is_fitted_as_a_ramp(monkeypatch):
    """A cast shadow taking half the light over a third of the photo, its edge a 6 px linear ramp (a penumbra on a
    smooth road; as ``score_cracks.py --alter shadow`` paints it), is lifted as one patch (since road-classic 0.38.0;
    before, by the median light). Its border is fitted as a ramp: the lifted road is as light as the unshaded one
    across the edge, and the edge band is the ramp. A blurred step fitted to the same ramp leaves a dark line where
    the ramp ends, which the learned stage took for a crack 370 px long (``test_detect.py``, the grey shadow)."""
    import schouw.detect.dapple as dapple_mod

    g = asphalt(320, 480)[0].astype(np.float32)
    light = 1 - 0.5 * np.clip((np.arange(480, dtype=np.float32) - 300) / 6 + 0.5, 0, 1)
    shaded = (g * light[None, :]).astype(np.uint8)

    def lifted() -> tuple[np.ndarray, np.ndarray]:
        out, edge, way = light_mod.even_light_how(shaded, ONES, P.light_ratio_max, P.light_step_max,
                                                  patch_ratio_max=P.light_patch_ratio_max)
        assert way == "shadow"
        return np.abs(out.astype(np.float32).mean(0) - g.mean(0))[280:320], edge  # column means across the edge

    gap, edge = lifted()
    assert gap.max() < 2.5, gap.round(1)
    assert edge[:, 297:304].all() and not edge[:, :290].any() and not edge[:, 310:].any()  # the ramp, and only it
    monkeypatch.setattr(dapple_mod, "RAMPS_PX", (10.0**6,))  # blurred steps only
    gap, _ = lifted()
    assert gap.max() > 5, gap.round(1)


@pytest.mark.parametrize("seed", [5, 7])
def test_what_is_left_of_a_curved_border_is_mended(seed, monkeypatch):
    """One fitted shape and offset for all the borders of leaves' shade leaves a pixel or two of them dark or light
    where a border curves. Since road-classic 0.40.0 the lifted light is mended within 6 px of the borders
    (``dapple.mend_border``): the lifted road is closer to the road without shade there (mean of the lifted photo's
    error, smoothed over 1.5 px, within 4 px of a border: 2.1 against 2.8-2.9 grey levels without it)."""
    import schouw.detect.dapple as dapple_mod

    g = asphalt(320, 480)[0].astype(np.float32)
    light, hard = _dapple(0.5, 2.0, seed)
    shaded = np.clip(g * light, 0, 255).astype(np.uint8)
    inside = cv2.distanceTransform(hard.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~hard).astype(np.uint8), cv2.DIST_L2, 5)
    near = np.maximum(inside, outside) <= 4

    def error() -> float:
        out, _ = _lift(shaded)
        return float(np.abs(cv2.GaussianBlur(out.astype(np.float32) - g, (0, 0), 1.5))[near].mean())

    mended = error()
    monkeypatch.setattr(dapple_mod, "REFINE_PX", -1.0)  # no band: not mended
    assert mended < 2.5 and mended < 0.85 * error()
