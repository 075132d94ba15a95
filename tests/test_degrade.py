"""facecourse.degrade: the named kinds of degradation, and low light on a noisy sensor.

Every expected value is worked out by hand in the comments, on made-up data small enough to check.
"""

from __future__ import annotations

import doctest
import pickle

import numpy as np
import pytest

from facecourse import degrade, plots
from facecourse.degrade import DEGRADATIONS, LowLight


def test_doctests() -> None:
    result = doctest.testmod(degrade)
    assert result.attempted > 0 and result.failed == 0


def test_every_kind_is_named_not_indexed() -> None:
    blur = DEGRADATIONS["blur"]
    assert blur.function is degrade.blur and blur.unit == "blur sigma in pixels"
    assert blur.levels == (2, 4, 8, 12, 16, 24) and blur.smaller_is_worse is False
    assert degrade.Degradation("jpeg", 10).unit == DEGRADATIONS["jpeg"].unit == "JPEG quality"
    with pytest.raises(ValueError, match="Unknown degradation"):
        degrade.Degradation("smudge", 1)


def test_the_figures_reverse_the_axes_of_the_kinds_where_smaller_is_worse() -> None:
    # plots may not import degrade (display does not import the image pipeline): it keeps its own set
    assert {k for k, v in DEGRADATIONS.items() if v.smaller_is_worse} == plots._SMALLER_IS_WORSE


# ------------------------------------------------------------------------------- low light


def test_low_light_without_noise_is_the_identity_at_full_light() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    # 1e12 electrons per white pixel: shot noise ~ 1e-6 relative, no read noise -> same picture
    out = LowLight(1.0, base_side=None, white_electrons=1e12, read_noise=0).apply(img)
    assert np.abs(out.astype(int) - img.astype(int)).max() <= 1


def test_low_light_gain_is_capped_so_very_little_light_is_also_darker() -> None:
    white = np.full((4, 4, 3), 255, dtype=np.uint8)
    # level 0.01, gain capped at 16: linear 1.0 -> 0.16; 0.16 ** (1 / 2.2) * 255 = 110.86 -> 111
    out = LowLight(0.01, base_side=None, white_electrons=1e12, read_noise=0).apply(white)
    assert np.all(out == 111)


def test_low_light_noise_follows_photon_statistics() -> None:
    # input 136: linear (136/255)^2.2 = 0.2508. At level 0.1 with 1000 electrons per white pixel,
    # a pixel expects 25.08 electrons; Poisson sd = sqrt(25.08) = 5.01 electrons. Gain 10 gives
    # linear = electrons / 100: mean 0.2508, sd 0.0501.
    img = np.full((200, 200, 3), 136, dtype=np.uint8)
    out = LowLight(0.1, base_side=None, read_noise=0).apply(img)
    linear = (out.astype(np.float64) / 255) ** 2.2
    assert linear.mean() == pytest.approx(0.2508, abs=0.005)
    assert linear.std() == pytest.approx(0.0501, rel=0.08)  # 8-bit rounding adds a little


def test_low_light_is_seeded_by_the_image_not_by_global_state() -> None:
    img = np.full((32, 32, 3), 100, dtype=np.uint8)
    other = img.copy()
    other[0, 0, 0] = 101
    t = LowLight(0.05, base_side=None)
    np.random.seed(1)  # noqa: NPY002  (the global state LowLight must ignore)
    first = t.apply(img)
    np.random.seed(2)  # noqa: NPY002
    assert np.array_equal(first, LowLight(0.05, base_side=None).apply(img))
    assert not np.array_equal(first[1:], t.apply(other)[1:])  # a different photo gets different noise


def test_low_light_shrinks_pickles_and_names_itself() -> None:
    t = LowLight(0.2)
    out = t.apply(np.zeros((1024, 768, 3), dtype=np.uint8))
    assert out.shape == (512, 384, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    assert pickle.loads(pickle.dumps(t)) == t  # worker processes receive it pickled
    assert t.variant == "lowlight:0.2@512/e1000/r3/g16"
    assert LowLight(0.2, read_noise=5).variant != t.variant  # every setting is part of the cache key
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="share of the light"):
            LowLight(bad)


def test_conditions_with_low_light_add_six_levels_to_the_standard_ones() -> None:
    conds = degrade.conditions_with_low_light()
    standard = degrade.conditions()
    assert [c.variant for c in conds[:len(standard)]] == [c.variant for c in standard]
    assert [c.level for c in conds[len(standard):]] == list(degrade.LOW_LIGHT_LEVELS)
    assert len({c.variant for c in conds}) == len(conds)
