#!/usr/bin/env python3
"""The encoding pipeline (detect -> landmarks -> 128-d faceprint) over the course's photos.

    python benchmarks/bench_encoding.py            # all 222 photos (about 7 min on 2 idle cores, 20+ when busy)
    python benchmarks/bench_encoding.py --quick    # 20 photos, one pool repeat (under a minute)

Five questions, each answered by variants run side by side in one process:

1. **What does the helper package cost?** Per photo, in rotating order (so load hits every
   variant alike), on the same decoded pixels:

   ============================  ===========================================================
   ``direct_default_e2e``        ``face_recognition`` as its README shows it: ``load_image_file``,
                                 ``face_locations(img)`` (HOG, **upsample 1**, full 1350 px),
                                 ``face_encodings(img, boxes)``. The naive baseline.
   ``direct_512_e2e``            ``load_image_file``, HOG (upsample 0) on a 512-px copy, box
                                 scaled back, ``face_encodings`` on the full photo: the wrapper's
                                 algorithm written directly - its like-for-like baseline.
   ``wrapper_e2e_cold``          ``facecourse.faceprints.encode_entry`` with an empty cache: SHA-256
                                 check, strict decoding, the same detection, 68-point landmarks
                                 as well, writing the cache file.
   ``direct_full`` / ``wrapper_full``   HOG (upsample 0) on the full photo, on a decoded array:
                                 ``face_locations`` + ``face_encodings`` vs ``encode_array(...,
                                 EncodingParams(detect_max_side=None))``.
   ``direct_512``                as ``direct_512_e2e`` on a decoded array (vs ``direct_full``: the
                                 gain from downscaling alone).
   ============================  ===========================================================

   Targets: the wrapper costs at most 5 % over its like-for-like baseline; it is faster than
   the naive baseline.
2. **Does downscaling change the faceprints?** Distance between the faceprints of the same photo
   from two pipelines, and how many same/different-person decisions at the 0.6 threshold flip over
   every pair of photos (plus FMR and FNMR at 0.6 under each pipeline).
3. **Do two cores help?** ``encode_entries(all photos, workers=1)`` vs ``workers=2``, each in a new
   empty cache, interleaved, median of repeats. Target about 2x on 2 idle cores.
4. **Does the cache work?** A second ``encode_entries`` call in the filled cache (target: near
   zero), and invalidation: changed parameters, a changed image and a changed library version all
   change the key and cause a recomputation; unchanged ones do not.
5. **What would two suggested changes save?** (in files the benchmarks do not own, prototyped
   here on a subset of about 45 photos, results checked identical): decoding through
   ``images.load_rgb`` vs a leaner decode vs ``face_recognition.load_image_file``; and 68-point
   faceprints (lesson 02's ``landmark_model="large"``) computed from the box and landmarks already
   in the default cached record instead of detecting the face again.

Writes ``benchmarks/results/encoding*.csv``. No faceprint is written anywhere but the temporary
caches, which are deleted at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    RESULTS,
    ensure_mirror,
    fmt_ratio,
    fmt_seconds,
    interleaved,
    load_average,
    load_text,
    machine_info,
    median,
    section,
    write_csv,
)

THRESHOLD = 0.6
VARIANTS = ["direct_default_e2e", "direct_512_e2e", "wrapper_e2e_cold", "direct_full", "wrapper_full",
            "direct_512"]
DESCRIPTIONS = {
    "direct_default_e2e": "face_recognition defaults: load_image_file + face_locations (HOG, upsample 1, full size) "
                          "+ face_encodings",
    "direct_512_e2e": "load_image_file + HOG (upsample 0) on a 512-px copy + face_encodings on the full photo",
    "wrapper_e2e_cold": "facecourse encode_entry, empty cache (SHA-256 check, strict load, 512-px HOG, "
                        "68+5 landmarks, cache write)",
    "direct_full": "decoded array: face_locations(img, 0) (full size) + face_encodings",
    "wrapper_full": "decoded array: encode_array(img, params=EncodingParams(detect_max_side=None))",
    "direct_512": "decoded array: HOG (upsample 0) on a 512-px copy + face_encodings on the full photo",
}
# (variant, its like-for-like reference, what the ratio says)
RATIOS = [
    ("wrapper_e2e_cold", "direct_512_e2e", "wrapper overhead end to end (same algorithm; target <= 1.05)"),
    ("wrapper_full", "direct_full", "wrapper overhead on a decoded array, full-size detection (target <= 1.05)"),
    ("wrapper_e2e_cold", "direct_default_e2e", "course pipeline vs face_recognition's defaults"),
    ("direct_512", "direct_full", "detection on 512 px vs full 1350 px (both upsample 0)"),
    ("direct_full", "direct_default_e2e", "upsample 0 vs face_recognition's default upsample 1 (full size)"),
]
# (pipeline A, pipeline B, what differs) for the faceprint comparisons
COMPARISONS = [
    ("wrapper_full", "direct_full", "same algorithm (should be identical)"),
    ("wrapper_e2e_cold", "direct_512_e2e", "same algorithm (should be identical)"),
    ("direct_512", "direct_full", "detection on 512 px vs 1350 px"),
    ("wrapper_e2e_cold", "direct_default_e2e", "course pipeline vs face_recognition's defaults"),
]


# --------------------------------------------------------------------------- the variants


def _largest(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int] | None:
    if not boxes:
        return None
    return sorted(boxes, key=lambda b: (-(b[2] - b[0]) * (b[1] - b[3]), b[0], b[3]))[0]


def _scale_back(box: tuple[int, int, int, int], scale: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    top, right, bottom, left = (round(v / scale) for v in box)
    return max(top, 0), min(right, shape[1]), min(bottom, shape[0]), max(left, 0)


def make_variants(fr: Any, fp: Any, downscale: Callable[..., Any], manifest: Any) -> dict[str, Callable[..., Any]]:
    """Each variant takes (entry, path, decoded image) and returns the largest face's encoding or None."""

    def direct_default_e2e(entry: Any, path: Path, image: np.ndarray) -> np.ndarray | None:
        img = fr.load_image_file(str(path))
        boxes = fr.face_locations(img)  # defaults: HOG, number_of_times_to_upsample=1
        encodings = fr.face_encodings(img, boxes)  # every face found, as a user would
        big = _largest(boxes)
        return None if big is None else encodings[boxes.index(big)]

    def _direct_512(img: np.ndarray) -> np.ndarray | None:
        small, scale = downscale(img, 512)
        big = _largest(fr.face_locations(small, 0))
        if big is None:
            return None
        return fr.face_encodings(img, [_scale_back(big, scale, img.shape)])[0]

    def direct_512_e2e(entry: Any, path: Path, image: np.ndarray) -> np.ndarray | None:
        return _direct_512(fr.load_image_file(str(path)))

    def wrapper_e2e_cold(entry: Any, path: Path, image: np.ndarray) -> np.ndarray | None:
        return fp.encode_entry(entry, manifest=manifest).encoding

    def direct_full(entry: Any, path: Path, image: np.ndarray) -> np.ndarray | None:
        big = _largest(fr.face_locations(image, 0))
        return None if big is None else fr.face_encodings(image, [big])[0]

    full_params = fp.EncodingParams(detect_max_side=None)

    def wrapper_full(entry: Any, path: Path, image: np.ndarray) -> np.ndarray | None:
        return fp.encode_array(image, params=full_params).encoding

    def direct_512(entry: Any, path: Path, image: np.ndarray) -> np.ndarray | None:
        return _direct_512(image)

    return {name: fn for name, fn in locals().items() if name in VARIANTS}


@contextmanager
def temp_cache(prefix: str = "facecourse-bench-cache-") -> Iterator[Path]:
    """Point FACECOURSE_CACHE_DIR at a new empty folder for the duration of the block."""
    old = os.environ.get("FACECOURSE_CACHE_DIR")
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["FACECOURSE_CACHE_DIR"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("FACECOURSE_CACHE_DIR", None)
        else:
            os.environ["FACECOURSE_CACHE_DIR"] = old
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- 1. per-photo timings


def per_photo(entries: list[Any], manifest: Any, repeats: int) -> tuple[np.ndarray, dict[str, list[Any]]]:
    """Times (n_photos, n_variants), median over repeats; and each variant's encodings."""
    import face_recognition as fr

    from facecourse import faceprints as fp
    from facecourse.dataset import load_photo, local_path
    from facecourse.images import downscale

    variants = make_variants(fr, fp, downscale, manifest)
    names = list(variants)
    times = np.zeros((len(entries), len(names)))
    encodings: dict[str, list[Any]] = {n: [None] * len(entries) for n in names}
    with temp_cache() as cache:
        # warm-up, untimed: imports, model loading, first-call costs
        e0 = entries[0]
        img0 = load_photo(e0, manifest=manifest)
        for name in names:
            variants[name](e0, local_path(e0), img0)
        for f in cache.rglob("*.npz"):
            f.unlink()
        start = time.perf_counter()
        for i, entry in enumerate(entries):
            image = load_photo(entry, manifest=manifest)  # decoded once, untimed, shared by the array variants
            path = local_path(entry)
            per_repeat = np.zeros((repeats, len(names)))
            for r in range(repeats):
                k = (i + r) % len(names)
                for name in names[k:] + names[:k]:  # rotating order
                    if name == "wrapper_e2e_cold":
                        for f in cache.rglob(f"{entry.sha256}*.npz"):
                            f.unlink()  # cold every time
                    t0 = time.perf_counter()
                    enc = variants[name](entry, path, image)
                    per_repeat[r, names.index(name)] = time.perf_counter() - t0
                    if r == 0:
                        encodings[name][i] = enc
            times[i] = np.median(per_repeat, axis=0)
            if (i + 1) % 20 == 0 or i + 1 == len(entries):
                elapsed = time.perf_counter() - start
                print(f"  {i + 1}/{len(entries)} photos, {fmt_seconds(elapsed)} "
                      f"(load {load_average()[0]:.1f})", flush=True)
    return times, encodings


def timing_rows(times: np.ndarray, names: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    n = len(times)
    rows = []
    for j, name in enumerate(names):
        total = float(times[:, j].sum())
        rows.append({
            "variant": name,
            "photos": n,
            "total_s": total,
            "images_per_s": n / total,
            "median_ms_per_image": float(np.median(times[:, j]) * 1e3),
            "p90_ms_per_image": float(np.percentile(times[:, j], 90) * 1e3),
            "description": DESCRIPTIONS[name],
        })
    ratio_rows = []
    for a, b, what in RATIOS:
        ia, ib = names.index(a), names.index(b)
        per_image = times[:, ia] / times[:, ib]
        ratio_rows.append({
            "variant": a,
            "reference": b,
            "median_per_photo_ratio": float(np.median(per_image)),
            "p10_ratio": float(np.percentile(per_image, 10)),
            "p90_ratio": float(np.percentile(per_image, 90)),
            "ratio_of_totals": float(times[:, ia].sum() / times[:, ib].sum()),
            "speedup_of_variant": float(times[:, ib].sum() / times[:, ia].sum()),
            "photos": n,
            "meaning": what,
        })
    return rows, ratio_rows


# --------------------------------------------------------------------------- 2. faceprint differences


def quality_rows(encodings: dict[str, list[Any]], entries: list[Any]) -> list[dict[str, Any]]:
    from facecourse.metrics import pairwise_distances

    people = np.array([e.person_id for e in entries])
    rows = []
    for a, b, what in COMPARISONS:
        got_a = np.array([x is not None for x in encodings[a]])
        got_b = np.array([x is not None for x in encodings[b]])
        both = got_a & got_b
        ea = np.vstack([encodings[a][i] for i in np.flatnonzero(both)])
        eb = np.vstack([encodings[b][i] for i in np.flatnonzero(both)])
        same_photo = np.linalg.norm(ea - eb, axis=1)
        da, db = pairwise_distances(ea), pairwise_distances(eb)
        iu = np.triu_indices(len(ea), k=1)
        match_a, match_b = da[iu] <= THRESHOLD, db[iu] <= THRESHOLD
        mated = people[both][iu[0]] == people[both][iu[1]]
        flips = match_a != match_b
        dist_a, dist_b = da[iu], db[iu]
        rows.append({
            "pipeline_a": a,
            "pipeline_b": b,
            "what_differs": what,
            "photos_both": int(both.sum()),
            "fta_a": int((~got_a).sum()),
            "fta_b": int((~got_b).sum()),
            "identical_faceprints": int((same_photo == 0).sum()),
            "same_photo_distance_median": float(np.median(same_photo)),
            "same_photo_distance_p95": float(np.percentile(same_photo, 95)),
            "same_photo_distance_max": float(same_photo.max()),
            "pairs": int(flips.size),
            "decision_flips_at_0.6": int(flips.sum()),
            "flips_mated": int((flips & mated).sum()),
            "flips_nonmated": int((flips & ~mated).sum()),
            "match_only_in_a": int((match_a & ~match_b).sum()),
            "match_only_in_b": int((match_b & ~match_a).sum()),
            "max_abs_pair_distance_change": float(np.abs(da[iu] - db[iu]).max()),
            # decision rule: match when distance <= 0.6 (face_recognition's compare_faces)
            "false_matches_a": int((~mated & (dist_a <= THRESHOLD)).sum()),
            "false_matches_b": int((~mated & (dist_b <= THRESHOLD)).sum()),
            "nonmated_pairs": int((~mated).sum()),
            "false_non_matches_a": int((mated & (dist_a > THRESHOLD)).sum()),
            "false_non_matches_b": int((mated & (dist_b > THRESHOLD)).sum()),
            "mated_pairs": int(mated.sum()),
        })
    return rows


# --------------------------------------------------------------------------- 3. two cores


def pool_rows(entries: list[Any], manifest: Any, repeats: int) -> tuple[list[dict[str, Any]], Any, Path]:
    """Rows, timings, and the (kept) cache folder filled by the last run, for the warm test."""
    from facecourse import faceprints as fp

    caches: list[Path] = []

    def fresh_cache(name: str) -> None:
        path = Path(tempfile.mkdtemp(prefix="facecourse-bench-pool-"))
        caches.append(path)
        os.environ["FACECOURSE_CACHE_DIR"] = str(path)

    import resource

    cpu: dict[str, list[float]] = {"workers=1": [], "workers=2": []}

    def with_cpu(name: str, workers: int) -> Callable[[], Any]:
        """Run encode_entries and record the CPU seconds it got (this process + its finished workers)."""
        def run() -> Any:
            before = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
            result = fp.encode_entries(entries, workers=workers, manifest=manifest)
            after = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
            pairs = zip(after, before, strict=True)
            cpu[name].append(sum(a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime for a, b in pairs))
            return result
        return run

    old = os.environ.get("FACECOURSE_CACHE_DIR")
    load_start = load_average()
    try:
        t = interleaved({"workers=1": with_cpu("workers=1", 1), "workers=2": with_cpu("workers=2", 2)},
                        repeats, setup=fresh_cache)
        n_ok = len(t.results["workers=2"].acquired)
    finally:
        if old is None:
            os.environ.pop("FACECOURSE_CACHE_DIR", None)
        else:
            os.environ["FACECOURSE_CACHE_DIR"] = old
        for c in caches[:-1]:
            shutil.rmtree(c, ignore_errors=True)
    load_end = load_average()
    rows = []
    for name in ("workers=1", "workers=2"):
        rows.append({
            "variant": f"encode_entries cold, {name}",
            "photos": len(entries),
            "acquired": n_ok,
            "repeats": repeats,
            "median_s": t.median(name),
            "min_s": t.spread(name)[0],
            "max_s": t.spread(name)[1],
            "images_per_s": len(entries) / t.median(name),
            "speedup_vs_workers1": t.median("workers=1") / t.median(name),
            # CPU seconds obtained / wall seconds: how many cores the run really got on a shared machine
            "cores_obtained": median(c / w for c, w in zip(cpu[name], t.runs[name], strict=True)),
            "cpu_s_per_image": median(cpu[name]) / len(entries),
            "all_runs_s": " ".join(f"{x:.2f}" for x in t.runs[name]),
            "load_start_1min": load_start[0],
            "load_end_1min": load_end[0],
        })
    return rows, t, caches[-1]


# --------------------------------------------------------------------------- 4. the cache


def cache_rows(entries: list[Any], manifest: Any, warm_repeats: int, cold_seconds: float,
               n_invalidation: int, filled: Path | None = None) -> list[dict[str, Any]]:
    import dlib

    from facecourse import faceprints as fp
    from facecourse.dataset import read_bytes
    from facecourse.images import load_rgb

    rows: list[dict[str, Any]] = []
    calls = {"n": 0}
    real = fp.encode_array

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return real(*args, **kwargs)

    def step(what: str, fn: Callable[[], Any], expect: int, cache: Path) -> None:
        calls["n"] = 0
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
        files = sum(1 for _ in cache.rglob("*.npz"))
        ok = calls["n"] == expect
        rows.append({"step": what, "seconds": elapsed, "recomputed": calls["n"], "expected_recomputed": expect,
                     "as_expected": ok, "cache_files": files})
        print(f"  {what:<72} {fmt_seconds(elapsed):>9}  recomputed {calls['n']:>3} (expected {expect}) "
              f"{'ok' if ok else 'UNEXPECTED'}", flush=True)

    # warm: the whole set, filled once (by the pool benchmark, or here, untimed), then read back
    with temp_cache() as cache:
        if filled is not None:
            shutil.rmtree(cache)
            shutil.move(str(filled), cache)
        fp.encode_entries(entries, manifest=manifest)
        t = interleaved({"warm": lambda: fp.encode_entries(entries, manifest=manifest)}, warm_repeats,
                        verbose=False)
        warm = t.median("warm")
        rows.append({"step": f"warm: encode_entries({len(entries)} photos) again, median of {warm_repeats}",
                     "seconds": warm, "recomputed": 0, "expected_recomputed": 0, "as_expected": True,
                     "cache_files": sum(1 for _ in cache.rglob("*.npz")),
                     "ms_per_image": warm / len(entries) * 1e3, "warm_over_cold": warm / cold_seconds})
        print(f"  warm encode_entries, {len(entries)} photos: {fmt_seconds(warm)} "
              f"({warm / len(entries) * 1e3:.2f} ms per photo; {warm / cold_seconds:.4f} of the cold time "
              f"{fmt_seconds(cold_seconds)})", flush=True)

    # invalidation, on a few photos, in one process so that recomputations can be counted
    few = entries[:n_invalidation]
    fp.encode_array = counting  # encode_entry calls it through the module, so this counts every computation
    try:
        with temp_cache() as cache:
            n = len(few)
            other = fp.EncodingParams(detect_max_side=640)
            step(f"cold: {n} photos, default parameters", lambda: fp.encode_entries(few, workers=1, manifest=manifest),
                 n, cache)
            step("again, same parameters (cache hit)", lambda: fp.encode_entries(few, workers=1, manifest=manifest),
                 0, cache)
            step("changed parameters (detect_max_side=640): new key, recomputed",
                 lambda: fp.encode_entries(few, params=other, workers=1, manifest=manifest), n, cache)
            step("again with the changed parameters (cache hit)",
                 lambda: fp.encode_entries(few, params=other, workers=1, manifest=manifest), 0, cache)
            step("back to the defaults (still cached)",
                 lambda: fp.encode_entries(few, workers=1, manifest=manifest), 0, cache)

            # a changed image: same photo with one pixel changed -> new SHA-256 -> new key
            entry = few[0]
            data = read_bytes(entry, manifest=manifest)
            image = load_rgb(data, name=entry.path)
            import hashlib

            from PIL import Image

            changed = image.copy()
            changed[0, 0] = 255 - changed[0, 0]
            buf = io.BytesIO()
            Image.fromarray(changed).save(buf, format="PNG")
            changed_bytes = buf.getvalue()
            sha_changed = hashlib.sha256(changed_bytes).hexdigest()
            sha_orig = hashlib.sha256(data).hexdigest()
            step("original image bytes through cached_record (cache hit)",
                 lambda: fp.cached_record(sha_orig, lambda: fp.encode_array(image), file_id=entry.file_id), 0, cache)
            step("one pixel changed: new SHA-256, recomputed",
                 lambda: fp.cached_record(sha_changed, lambda: fp.encode_array(load_rgb(changed_bytes)),
                                          file_id=entry.file_id), 1, cache)
            step("the changed image again (cache hit)",
                 lambda: fp.cached_record(sha_changed, lambda: fp.encode_array(load_rgb(changed_bytes)),
                                          file_id=entry.file_id), 0, cache)

            # a different dlib version: the key changes (simulated by patching the version string)
            real_version = dlib.__version__
            try:
                dlib.__version__ = real_version + "-simulated-upgrade"
                step("library version changed (dlib.__version__ patched): new key, recomputed",
                     lambda: fp.encode_entries(few[:1], workers=1, manifest=manifest), 1, cache)
            finally:
                dlib.__version__ = real_version
            step("real version again (cache hit)", lambda: fp.encode_entries(few[:1], workers=1, manifest=manifest),
                 0, cache)
    finally:
        fp.encode_array = real
    return rows


# --------------------------------------------------------------------------- 5. candidate fixes


def _lean_load(data: bytes) -> np.ndarray:
    """Prototype of a cheaper ``images.load_rgb`` for the common case (an RGB JPEG that needs no
    rotation): decode, apply EXIF orientation only when the tag asks for a change, one copy out.
    (``load_rgb``'s other checks are header-only and cheap; it is only meant to show the gain.)"""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        if im.getexif().get(0x0112, 1) != 1:  # Orientation
            im = ImageOps.exif_transpose(im)
        if im.mode != "RGB":
            im = im.convert("RGB")
        return np.array(im, dtype=np.uint8)


def fixes_rows(entries: list[Any], manifest: Any, repeats: int) -> list[dict[str, Any]]:
    """What two suggested changes to files this benchmark does not own would save (measured here).

    * decoding: ``dataset.load_photo`` (SHA-256 check + ``images.load_rgb``) vs the same bytes
      through :func:`_lean_load` vs ``face_recognition.load_image_file``;
    * 68-point faceprints (lesson 02's ``landmark_model="large"``): a full ``encode_array`` vs
      reusing the box and the 68 landmarks already in the default cached record (no detection).
    """
    import dlib
    import face_recognition.api as fra

    from facecourse import faceprints as fp
    from facecourse.dataset import load_photo, local_path, read_bytes

    rows: list[dict[str, Any]] = []
    large = fp.EncodingParams(landmark_model="large")
    dec: dict[str, list[float]] = {"load_photo": [], "lean_load": [], "fr.load_image_file": []}
    enc: dict[str, list[float]] = {"encode_array(large)": [], "reuse_box_and_landmarks": []}
    same_pixels = same_prints = 0
    for i, entry in enumerate(entries):
        path = local_path(entry)
        image = load_photo(entry, manifest=manifest)
        record = fp.encode_array(image)  # the default record, as the cache holds it (untimed)
        for r in range(repeats):
            order = list(dec)[(i + r) % 3:] + list(dec)[:(i + r) % 3]
            for name in order:
                t0 = time.perf_counter()
                if name == "load_photo":
                    out = load_photo(entry, manifest=manifest)
                elif name == "lean_load":
                    out = _lean_load(read_bytes(entry, manifest=manifest))
                    same_pixels += int(r == 0 and np.array_equal(out, image))
                else:
                    out = fra.load_image_file(str(path))
                dec[name].append(time.perf_counter() - t0)
            if record.box is None or record.landmarks68 is None:
                continue
            for name in (list(enc) if (i + r) % 2 == 0 else list(enc)[::-1]):
                t0 = time.perf_counter()
                if name == "encode_array(large)":
                    full = fp.encode_array(image, params=large).encoding
                else:
                    rect = fra._css_to_rect(record.box)
                    points = dlib.points()
                    for x, y in record.landmarks68.astype(int):
                        points.append(dlib.point(int(x), int(y)))
                    shape = dlib.full_object_detection(rect, points)
                    reused = np.array(fra.face_encoder.compute_face_descriptor(image, shape, 1))
                enc[name].append(time.perf_counter() - t0)
            if r == 0:
                same_prints += int(full is not None and np.array_equal(full, reused))
    ref = median(dec["fr.load_image_file"])
    for name, vals in dec.items():
        rows.append({"fix": "decoding (images.load_rgb)", "variant": name, "median_ms": median(vals) * 1e3,
                     "ratio_vs_reference": median(vals) / ref, "reference": "fr.load_image_file",
                     "check": f"lean_load identical pixels on {same_pixels} of {len(entries)} photos"})
    ref = median(enc["encode_array(large)"])
    for name, vals in enc.items():
        rows.append({"fix": "68-point faceprints reuse the cached detection", "variant": name,
                     "median_ms": median(vals) * 1e3, "ratio_vs_reference": median(vals) / ref,
                     "reference": "encode_array(large)",
                     "check": f"identical faceprints on {same_prints} of "
                              f"{len(enc['reuse_box_and_landmarks']) // repeats} photos"})
    return rows


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 photos, 1 pool repeat: a smoke test of the benchmark")
    ap.add_argument("--photos", type=int, default=None, help="use this many photos, evenly spread (default: all)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="timings per photo and variant, median kept (default 1: the median over photos "
                         "already pairs every variant on every photo)")
    ap.add_argument("--pool-repeats", type=int, default=3, help="runs of workers=1 and of workers=2 (default 3)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: photos,pool,cache,fixes")
    ap.add_argument("--out-dir", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.quick:
        args.photos = args.photos or 20
        args.pool_repeats = 1
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    ensure_mirror()
    from facecourse.dataset import fetch
    from facecourse.manifest import load_manifest

    manifest = load_manifest()
    entries = manifest.photos()
    if args.photos and args.photos < len(entries):
        idx = np.linspace(0, len(entries) - 1, args.photos).round().astype(int)
        entries = [entries[i] for i in idx]
    fetch(entries, manifest=manifest)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    info = machine_info()
    load_start = load_average()
    section(f"encoding benchmark: {len(entries)} photos; load average at start {load_text(load_start)}")
    out: dict[str, Any] = {"photos": len(entries), "load_start": load_start}
    args.out_dir.mkdir(parents=True, exist_ok=True)

    if "photos" not in skip:
        section("1. per-photo timings, variants interleaved (rotating order)")
        times, encodings = per_photo(entries, manifest, args.repeat)
        rows, ratio_rows = timing_rows(times, VARIANTS)
        write_csv(rows, args.out_dir / "encoding.csv")
        write_csv(ratio_rows, args.out_dir / "encoding_ratios.csv")
        for r in rows:
            print(f"  {r['variant']:<20} {r['images_per_s']:6.2f} images/s  median {r['median_ms_per_image']:7.1f} "
                  f"ms/photo")
        for r in ratio_rows:
            print(f"  {r['variant']} / {r['reference']}: {fmt_ratio(r['median_per_photo_ratio'])} per photo "
                  f"(p10-p90 {r['p10_ratio']:.2f}-{r['p90_ratio']:.2f}; totals {fmt_ratio(r['ratio_of_totals'])}) "
                  f"- {r['meaning']}")
        section("2. faceprints from different pipelines")
        q = quality_rows(encodings, entries)
        write_csv(q, args.out_dir / "encoding_quality.csv")
        for r in q:
            print(f"  {r['pipeline_a']} vs {r['pipeline_b']} ({r['what_differs']}): {r['photos_both']} photos, "
                  f"FTA {r['fta_a']}/{r['fta_b']}; identical {r['identical_faceprints']}; same-photo distance median "
                  f"{r['same_photo_distance_median']:.4f}, max {r['same_photo_distance_max']:.4f}; "
                  f"{r['decision_flips_at_0.6']} of {r['pairs']:,} decisions flip at 0.6 "
                  f"({r['flips_mated']} mated, {r['flips_nonmated']} non-mated); false matches "
                  f"{r['false_matches_a']}/{r['false_matches_b']}, false non-matches "
                  f"{r['false_non_matches_a']}/{r['false_non_matches_b']}")
        out.update(timings=rows, ratios=ratio_rows, quality=q)

    cold, filled = None, None
    if "pool" not in skip:
        section(f"3. encode_entries on a cold cache, workers=1 vs 2 ({args.pool_repeats} repeats, interleaved)")
        prow, t, filled = pool_rows(entries, manifest, args.pool_repeats)
        write_csv(prow, args.out_dir / "encoding_pool.csv")
        for r in prow:
            print(f"  {r['variant']:<32} median {fmt_seconds(r['median_s'])} ({r['images_per_s']:.2f} images/s), "
                  f"speed-up {fmt_ratio(r['speedup_vs_workers1'])}; cores obtained {r['cores_obtained']:.2f} "
                  f"(CPU s / wall s), {r['cpu_s_per_image'] * 1e3:.0f} CPU ms per photo; load "
                  f"{r['load_start_1min']:.1f} -> {r['load_end_1min']:.1f}")
        cold = t.median("workers=2")
        out.update(pool=prow)

    if "cache" not in skip:
        section("4. the cache: warm reads and invalidation")
        if cold is None:
            from facecourse import faceprints as fp

            with temp_cache():
                t0 = time.perf_counter()
                fp.encode_entries(entries, manifest=manifest)
                cold = time.perf_counter() - t0
        crows = cache_rows(entries, manifest, 5, cold, min(6, len(entries)), filled)
        write_csv(crows, args.out_dir / "encoding_cache.csv")
        out.update(cache=crows)
    elif filled is not None:
        shutil.rmtree(filled, ignore_errors=True)  # faceprints: never leave them behind

    if "fixes" not in skip:
        section("5. candidate fixes in files this benchmark does not own (measured on a subset)")
        few = entries[:: max(1, len(entries) // 40)]
        frows = fixes_rows(few, manifest, 3)
        write_csv(frows, args.out_dir / "encoding_fixes.csv")
        for r in frows:
            print(f"  {r['fix']:<48} {r['variant']:<26} median {r['median_ms']:7.1f} ms "
                  f"({r['ratio_vs_reference']:.2f}× {r['reference']}); {r['check']}")
        out.update(fixes=frows)

    load_end = load_average()
    out["load_end"] = load_end
    out["machine"] = info
    # One row per invocation; rows of earlier invocations are kept for the parts not re-run now,
    # so that re-running one part (e.g. --skip photos,cache,fixes when the machine is quieter)
    # keeps the record of when and under what load the other parts were measured.
    parts = [p for p in ("photos", "pool", "cache", "fixes") if p not in skip]
    run_csv = args.out_dir / "encoding_run.csv"
    kept = []
    if run_csv.exists():
        import csv

        with run_csv.open(newline="") as fh:
            for row in csv.DictReader(fh):
                left = [p for p in row.get("parts", "").split() if p not in parts]
                if left:
                    kept.append({**row, "parts": " ".join(left)})
    write_csv(kept + [{"benchmark": "encoding", "parts": " ".join(parts), "photos": len(entries),
                       "date": info["date"], "load_start_1min": load_start[0], "load_end_1min": load_end[0],
                       "argv": " ".join(argv if argv is not None else sys.argv[1:]),
                       **{f"machine: {k}": v for k, v in info.items()}}], run_csv)
    print(f"\nload average at end: {load_text(load_end)}")
    return out


if __name__ == "__main__":
    main()
    sys.exit(0)
