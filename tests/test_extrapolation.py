"""Tests of facecourse.extrapolation: power-law fits, extrapolation, memory arithmetic, FPIR by size."""

from __future__ import annotations

import doctest
import math
import re
import types

import numpy as np
import pytest

from facecourse import extrapolation
from facecourse.extrapolation import (
    Extrapolation,
    PowerLawFit,
    extrapolate,
    fit_power_law,
    format_bytes,
    format_duration,
    fpir_by_gallery_size,
    memory_per_faceprint,
    memory_table,
    read_results_csv,
    time_best_of,
)


def test_doctests() -> None:
    result = doctest.testmod(extrapolation, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10
    assert result.failed == 0


# --------------------------------------------------------------------------- fit


def test_fit_recovers_exact_power_law() -> None:
    # y = 2.5e-8 * N^1.2 exactly: log10 y = log10(2.5e-8) + 1.2 log10 N, a straight line
    n = np.array([1e4, 3e4, 1e5, 1e6, 1e7])
    y = 2.5e-8 * n**1.2
    fit = fit_power_law(n, y, x_name="N", y_name="t")
    assert fit.exponent == pytest.approx(1.2, abs=1e-12)
    assert fit.coefficient == pytest.approx(2.5e-8, rel=1e-10)
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)
    assert (fit.n_points, fit.x_min, fit.x_max, fit.exponent_fixed) == (5, 1e4, 1e7, False)
    # predicting at 3e9: 2.5e-8 * (3e9)^1.2
    assert fit.predict(3e9) == pytest.approx(2.5e-8 * 3e9**1.2, rel=1e-9)
    np.testing.assert_allclose(fit.predict(n), y, rtol=1e-10)


def test_fit_by_hand_two_points_and_fixed_exponent() -> None:
    # (10, 1) and (1000, 100): slope log10(100)/log10(100) = 1, a = 1/10 = 0.1
    fit = fit_power_law([10, 1000], [1, 100])
    assert fit.exponent == pytest.approx(1.0)
    assert fit.coefficient == pytest.approx(0.1)
    # Fixed exponent 1 on (1, 1), (10, 40): log10 a = mean(0 - 0, log10 40 - 1) = log10(4)/2,
    # so a = sqrt(4) = 2 (the geometric mean of y/x = 1 and 4)
    fixed = fit_power_law([1, 10], [1, 40], exponent=1)
    assert fixed.exponent_fixed and fixed.exponent == 1.0
    assert fixed.coefficient == pytest.approx(2.0)
    # residuals on log10 y: 0 - log10 2 and log10 40 - log10 20, i.e. -0.30103 and +0.30103;
    # total sum of squares about mean(0, 1.60206) = 2 * 0.80103^2; R² = 1 - 2*0.30103^2 / that
    assert fixed.r_squared == pytest.approx(1 - 0.30103**2 / 0.80103**2, rel=1e-4)


def test_fit_noisy_data_has_r2_below_one() -> None:
    n = np.array([1e4, 1e5, 1e6, 1e7])
    y = 1e-7 * n * np.array([1.3, 0.8, 1.2, 0.9])  # +-30 % noise around a linear law
    fit = fit_power_law(n, y)
    assert 0.9 < fit.exponent < 1.1
    assert 0.95 < fit.r_squared < 1.0


def test_fit_constant_data() -> None:
    fit = fit_power_law([1, 10, 100], [5, 5, 5])
    assert fit.exponent == pytest.approx(0.0, abs=1e-12)
    assert fit.coefficient == pytest.approx(5.0)
    assert fit.r_squared == 1.0


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1, 2], [1], "same number"),
        ([1, 0], [1, 2], "> 0"),
        ([1, 2], [1, -2], "> 0"),
        ([1, 1], [1, 2], "two or more different x"),
        ([1, np.nan], [1, 2], "finite"),
    ],
)
def test_fit_rejects_bad_input(x: list[float], y: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_power_law(x, y)


def test_fit_str_names_parameters_and_range() -> None:
    text = str(fit_power_law([1e4, 1e6], [1e-3, 1e-1], x_name="N", y_name="t"))
    assert "t ≈ 1e-07 × N^1" in text
    assert "N = 10000 – 1e+06" in text and "R² = 1" in text
    fixed = str(fit_power_law([1e4, 1e6], [1e-3, 1e-1], exponent=1))
    assert "exponent fixed at 1" in fixed


# --------------------------------------------------------------------------- extrapolation


def test_extrapolate_value_and_assumptions() -> None:
    # t = 1e-8 * N exactly; at N = 3e9: 30 s, 300x beyond 1e7
    fit = fit_power_law([1e5, 1e6, 1e7], [1e-3, 1e-2, 1e-1], x_name="N", y_name="t")
    e = extrapolate(fit, 3e9, quantity="time per search", unit="s",
                    assumptions=["comparisons are independent", "one machine"])
    assert isinstance(e, Extrapolation)
    assert e.value == pytest.approx(30.0)
    assert e.factor_beyond_data == pytest.approx(300.0)
    assert len(e.assumptions) == 3
    assert "300× beyond the largest measurement" in e.assumptions[0]
    text = str(e)
    assert text.startswith("time per search at 3e+09: 30 s")
    assert "assumes:" in text and "- comparisons are independent" in text and "- one machine" in text


def test_extrapolate_inside_and_below_range() -> None:
    fit = fit_power_law([10, 1000], [1, 100])
    assert "inside the measured range" in extrapolate(fit, 100, quantity="q").assumptions[0]
    assert "1.5× beyond" in extrapolate(fit, 1500, quantity="q").assumptions[0]
    assert "5× below the smallest" in extrapolate(fit, 2, quantity="q").assumptions[0]
    with pytest.raises(ValueError, match="positive"):
        extrapolate(fit, 0, quantity="q")
    with pytest.raises(ValueError, match="x > 0"):
        fit.predict(-1)


# --------------------------------------------------------------------------- memory


def test_memory_per_faceprint_by_hand() -> None:
    rows = {r.storage: r for r in memory_per_faceprint(128, pq_bytes=32)}
    # 128 numbers: 8, 4, 2, 1 bytes each; PQ: 32 bytes in all
    assert rows["float64"].bytes_per_faceprint == 1024
    assert rows["float32"].bytes_per_faceprint == 512
    assert rows["float16"].bytes_per_faceprint == 256
    assert rows["int8"].bytes_per_faceprint == 128
    assert rows["PQ codes (32 B)"].bytes_per_faceprint == 32
    assert rows["float32"].exact_distances and not rows["int8"].exact_distances
    # 3e9 faceprints in float16: 768 GB (facts.md F says the same)
    assert rows["float16"].total(3e9) == 768e9
    with pytest.raises(ValueError):
        memory_per_faceprint(0)


def test_memory_table_totals() -> None:
    rows = memory_table(1e6, dim=4, pq_bytes=2, id_bytes=8)
    # dim 4: float64 32 B + 8 id = 40 B -> 40 MB for a million; PQ: (2 + 8) B -> 10 MB
    assert rows[0]["for 1e+06 faceprints"] == "40 MB"
    assert rows[-1]["for 1e+06 faceprints"] == "10 MB"
    assert rows[-1]["distances"] == "approximate"


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1 kB"), (1234567, "1.23 MB"), (7.68e11, "768 GB"),
     (1.56e12, "1.56 TB")],
)
def test_format_bytes(n: float, text: str) -> None:
    assert format_bytes(n) == text


def test_format_duration_and_errors() -> None:
    assert format_duration(2e-6) == "2 µs"
    assert format_duration(90) == "1.5 min"
    with pytest.raises(ValueError):
        format_duration(-1)
    with pytest.raises(ValueError):
        format_bytes(math.inf)


# --------------------------------------------------------------------------- timing


def test_time_best_of_counts_calls() -> None:
    calls: list[int] = []

    def call() -> int:
        calls.append(1)
        return len(calls)

    t = time_best_of(call, repeat=4)
    assert len(calls) == 4 and t.result == 4 and len(t.times) == 4
    assert t.best == min(t.times) and min(t.times) <= t.median <= max(t.times)
    with pytest.raises(ValueError):
        time_best_of(lambda: None, repeat=0)


# --------------------------------------------------------------------------- FPIR by size


def test_fpir_by_gallery_size_exact_cases() -> None:
    # Search 0: one false candidate (0.5) among 4 entries; search 1: none; search 2: all four.
    # Gallery of N of the 4 entries, random: search 0 alarms with probability N/4,
    # search 1 never, search 2 always.  FPIR(N) = (N/4 + 0 + 1) / 3.
    d = np.array([[0.5, 0.9, 0.9, 0.9],
                  [0.9, 0.9, 0.9, 0.9],
                  [0.1, 0.2, 0.3, 0.4]])
    r = fpir_by_gallery_size(d, 0.6, n_draws=4000, seed=3)
    assert r.sizes.tolist() == [1, 2, 3, 4]
    expected = (r.sizes / 4 + 1) / 3
    np.testing.assert_allclose(r.fpir, expected, atol=0.02)
    assert r.fpir[-1] == pytest.approx(2 / 3)  # full gallery: exact, whatever the draw
    assert (r.n_searches, r.n_draws, r.threshold) == (3, 4000, 0.6)


def test_fpir_by_gallery_size_excludes_marked_entries() -> None:
    # The nan entry (the search's own mate) would be a hit at 0.0; it must never be drawn.
    d = np.array([[np.nan, 0.9, 0.9], [0.9, np.inf, 0.9]])
    r = fpir_by_gallery_size(d, 0.6, n_draws=50)
    assert r.sizes.tolist() == [1, 2] and np.all(r.fpir == 0.0)
    assert fpir_by_gallery_size(d, 0.6, sizes=[2], n_draws=5).sizes.tolist() == [2]
    with pytest.raises(ValueError, match=re.escape("1 .. 2")):
        fpir_by_gallery_size(d, 0.6, sizes=[3])
    with pytest.raises(ValueError, match="2-d"):
        fpir_by_gallery_size([0.1, 0.2], 0.6)


def test_fpir_by_gallery_size_matches_independence_formula_for_independent_hits() -> None:
    # Each entry independently a false candidate with probability 0.1 (fresh for every search):
    # FPIR(N) should follow 1 - 0.9^N.
    rng = np.random.default_rng(0)
    d = np.where(rng.random((400, 30)) < 0.1, 0.3, 0.9)
    r = fpir_by_gallery_size(d, 0.6, sizes=[1, 5, 30], n_draws=20, seed=1)
    np.testing.assert_allclose(r.fpir, 1 - 0.9 ** np.array([1, 5, 30]), atol=0.04)


# --------------------------------------------------------------------------- csv


def test_read_results_csv(tmp_path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("size,method,recall,note\n100,numpy_f32,1.0,\n1000,faiss_hnsw,0.75,ef=64\n")
    rows = read_results_csv(f)
    assert rows == [
        {"size": 100, "method": "numpy_f32", "recall": 1.0, "note": None},
        {"size": 1000, "method": "faiss_hnsw", "recall": 0.75, "note": "ef=64"},
    ]
    with pytest.raises(FileNotFoundError, match="benchmark"):
        read_results_csv(tmp_path / "missing.csv")


def test_powerlawfit_is_frozen() -> None:
    fit = PowerLawFit(1.0, 1.0, 1.0, 2, 1.0, 10.0)
    with pytest.raises(AttributeError):
        fit.exponent = 2.0  # type: ignore[misc]


# --------------------------------------------------------------------------- the benchmark script


def _benchmark_module() -> types.ModuleType:
    from conftest import ROOT, load_script

    return load_script(ROOT / "benchmarks" / "search_scaling.py")


def test_benchmark_arguments_and_helpers() -> None:
    bench = _benchmark_module()
    args = bench.parse_args([])
    assert bench.sizes_for(args) == [10_000, 100_000, 1_000_000]  # the default run
    assert args.methods[0] == "numpy_f32" and args.caps["face_distance_loop"] == 100_000
    big = bench.parse_args(["--max-size", "10000000", "--methods", "faiss_flat", "--cap", "faiss_flat=1e5"])
    assert bench.sizes_for(big)[-1] == 10_000_000
    assert big.methods == ["numpy_f32", "faiss_flat"]  # the exact reference is always measured
    assert big.caps["faiss_flat"] == 100_000
    with pytest.raises(SystemExit):
        bench.parse_args(["--methods", "nonsense"])
    # nlist: the power of two nearest sqrt(N), at least 16
    assert [bench.ivf_nlist(n) for n in (100, 10_000, 1_000_000, 10_000_000)] == [16, 128, 1024, 4096]
    rows = [{"gallery_size": 10, "method": "numpy_f32", "queries_per_s": 100.0},
            {"gallery_size": 10, "method": "faiss_flat", "queries_per_s": 250.0},
            {"gallery_size": 20, "method": "faiss_flat", "queries_per_s": 5.0}]
    bench.add_ratios(rows)
    assert [r["ratio_vs_numpy_f32"] for r in rows] == [1.0, 2.5, None]  # no reference at N = 20


def test_committed_benchmark_results_are_readable() -> None:
    from conftest import ROOT

    rows = read_results_csv(ROOT / "benchmarks" / "results" / "search_scaling.csv")
    f32 = [r for r in rows if r["method"] == "numpy_f32"]
    assert len(f32) >= 3, "lesson 04 fits a curve through at least three numpy_f32 sizes"
    assert all(r["ratio_vs_numpy_f32"] == 1 and r["recall_at_k"] == 1 for r in f32)
    assert {r["gallery_size"] for r in f32} >= {10_000, 100_000, 1_000_000}
    report = (ROOT / "benchmarks" / "results" / "search_scaling.md").read_text()
    assert "## Machine" in report and "SYNTHETIC" in report
