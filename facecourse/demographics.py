"""Who gets misidentified? False-match rates by self-reported group, with honest uncertainty.

NIST calls differences in error rates between groups of people *demographic differentials*
(NIST IR 8280, 2019). Measuring them takes three things this module adds to
:mod:`facecourse.metrics`, whose :func:`~facecourse.metrics.group_error_rates`,
:func:`~facecourse.metrics.threshold_for_fmr_by_group` and
:func:`~facecourse.metrics.fmr_bootstrap_by_subject` do the counting:

* **groups of people** from the manifest's self-reported labels, one label per person
  (:func:`labels_by_person`), with age cut into data-driven bands (:class:`AgeBands`);
* **the two intervals side by side** for every group (:func:`within_group_intervals`): the
  Wilson interval, which treats every photo pair as an independent trial, and the bootstrap
  over *people*, which does not. With 13 people in a group, the second is much wider, and it
  is the honest one: a different 13 volunteers could have given a very different rate;
* **the comparison of two groups** (:func:`fmr_difference_bootstrap`): the difference and the
  ratio of their FMRs, with people resampled *within each group*. Two separate intervals that
  overlap do not show that the rates are equal, and two that do not overlap are a rough test;
  the interval of the difference is the direct answer to "is group A's FMR higher than B's?".

It also shows why pairs that share a person are not independent (:func:`false_match_people`:
a few people account for many of a group's false matches). The lesson's figures of these
numbers are in :mod:`facecourse.errorplots` (:func:`~facecourse.errorplots.plot_fmr_by_threshold`,
:func:`~facecourse.errorplots.plot_interval_comparison`): this module only computes.

Groups are given as in :mod:`facecourse.metrics`: a mapping ``{subject id: group}`` or one
label per sample. A group with fewer than ``min_people`` people (by default 2: a group of one
has no non-mated pair inside it) gets no within-group rate; its people still count in every
"all pairs" figure.

Self-reported categories are coarse, and labels like these are special-category data under
GDPR Art. 9 (racial or ethnic origin): keep them only as long as the audit needs them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _text, metrics

__all__ = [
    "NOT_REPORTED",
    "AgeBands",
    "crosstab",
    "FMRDifference",
    "FalseMatchPeople",
    "GroupInterval",
    "fmr_difference_bootstrap",
    "false_match_people",
    "group_sizes",
    "labels_by_person",
    "within_group_fmr_curves",
    "within_group_intervals",
    "within_group_scores",
]

#: The label given to a person who did not report an attribute.
NOT_REPORTED = "not reported"

_ATTRIBUTES = ("ethnicity", "gender", "age")


# ---------------------------------------------------------------------------------------------
# Groups of people from the manifest
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBands:
    """Age bands as inclusive ranges of whole years, e.g. ``18-23``, ``24-29``, ``30-54``.

    ``upper`` holds the last age of every band but the oldest; ``lowest`` and ``highest`` are the
    youngest and oldest ages seen. Build them from the data with :meth:`from_ages`.

    >>> bands = AgeBands(upper=(23, 29), lowest=18, highest=54)
    >>> bands.labels()
    ['18-23', '24-29', '30-54']
    >>> bands.label(23), bands.label(24), bands.label(None)
    ('18-23', '24-29', 'not reported')
    """

    upper: tuple[int, ...]
    lowest: int
    highest: int

    def __post_init__(self) -> None:
        edges = [self.lowest - 1, *self.upper, self.highest]
        if any(b <= a for a, b in pairwise(edges)):
            raise ValueError(f"AgeBands: need lowest <= each upper < the next < highest, got "
                             f"lowest={self.lowest}, upper={self.upper}, highest={self.highest}")

    @classmethod
    def from_ages(cls, ages: Iterable[int | None], *, n_bands: int = 3) -> AgeBands:
        """Bands holding about the same number of people: cut at the 1/n, 2/n, ... quantiles.

        Give one age per *person* (not per photo), ``None`` for "not reported". A cut is the
        largest age at or below the quantile (``numpy.quantile(..., method="lower")``), so each
        band ends on an age someone has. Ties can make bands unequal: 12 people aged 23 all
        land in the same band.

        >>> AgeBands.from_ages([18, 19, 20, 21, 22, 23, 30, 40, 50], n_bands=3).labels()
        ['18-20', '21-23', '24-50']
        """
        known = np.asarray([a for a in ages if a is not None], dtype=np.int64)
        if int(n_bands) < 2:
            raise ValueError(f"AgeBands.from_ages: n_bands must be at least 2, got {n_bands!r}")
        if known.size < n_bands:
            raise ValueError(f"AgeBands.from_ages: {known.size} known ages cannot make {n_bands} bands")
        cuts = np.quantile(known, np.arange(1, n_bands) / n_bands, method="lower").astype(np.int64)
        if np.any(np.diff(cuts) <= 0) or cuts[-1] >= known.max():
            raise ValueError(f"AgeBands.from_ages: too few distinct ages for {n_bands} bands "
                             f"(cuts {cuts.tolist()}); ask for fewer bands")
        return cls(tuple(int(c) for c in cuts), int(known.min()), int(known.max()))

    def label(self, age: int | None) -> str:
        """The band of one age (``"not reported"`` for None)."""
        if age is None:
            return NOT_REPORTED
        if not self.lowest <= age <= self.highest:
            raise ValueError(f"age {age} is outside the bands ({self.lowest}-{self.highest})")
        k = int(np.searchsorted(self.upper, age, side="left"))
        return self.labels()[k]

    def labels(self) -> list[str]:
        """Every band's label, youngest first."""
        starts = [self.lowest, *(u + 1 for u in self.upper)]
        ends = [*self.upper, self.highest]
        return [f"{a}-{b}" for a, b in zip(starts, ends, strict=True)]


def labels_by_person(entries: Iterable[Any], attribute: str, *, age_bands: AgeBands | None = None) -> dict[str, str]:
    """One label per person: ``{person_id: label}`` for ``attribute`` in ethnicity, gender, age.

    ``entries`` are manifest entries (several per person: the labels of one person must agree).
    A missing value becomes ``"not reported"``. Ages are put in ``age_bands`` (required for
    ``attribute="age"``). The labels are the participants' own words, kept as they are: a
    person who reported two categories keeps both (``"east_asian/white"``).

    >>> from types import SimpleNamespace as E
    >>> people = [E(person_id="p1", ethnicity="white", gender="female", age=20),
    ...           E(person_id="p1", ethnicity="white", gender="female", age=20),
    ...           E(person_id="p2", ethnicity="", gender="male", age=None)]
    >>> labels_by_person(people, "ethnicity")
    {'p1': 'white', 'p2': 'not reported'}
    >>> labels_by_person(people, "age", age_bands=AgeBands((19,), 18, 30))
    {'p1': '20-30', 'p2': 'not reported'}
    """
    if attribute not in _ATTRIBUTES:
        raise ValueError(f"labels_by_person: attribute must be one of {_ATTRIBUTES}, got {attribute!r}")
    if attribute == "age" and age_bands is None:
        raise ValueError("labels_by_person: ages need bands; pass age_bands=AgeBands.from_ages(...)")
    out: dict[str, str] = {}
    for entry in entries:
        person = entry.person_id
        if not person:
            raise ValueError(f"labels_by_person: entry {getattr(entry, 'file_id', entry)!r} has no person_id "
                             "(composites and other non-person images have no self-reported labels)")
        value = getattr(entry, attribute)
        if attribute == "age":
            label = age_bands.label(value)  # type: ignore[union-attr]
        else:
            label = str(value).strip() if value not in (None, "") else NOT_REPORTED
        if out.setdefault(person, label) != label:
            raise ValueError(f"labels_by_person: person {person} has two different {attribute} labels "
                             f"({out[person]!r} and {label!r}); fix the manifest")
    return out


def group_sizes(groups: Mapping[Any, str]) -> dict[str, int]:
    """How many people are in each group, largest first (ties by name).

    >>> group_sizes({"a": "X", "b": "Y", "c": "X"})
    {'X': 2, 'Y': 1}
    """
    names, counts = np.unique(np.asarray(list(groups.values()), dtype=str), return_counts=True)
    order = sorted(range(len(names)), key=lambda k: (-counts[k], names[k]))
    return {str(names[k]): int(counts[k]) for k in order}


def crosstab(rows: Mapping[Any, str], columns: Mapping[Any, str], *, row_title: str = "") -> str:
    """People counted by two labels at once, as a text table (rows: largest group first).

    ``rows`` and ``columns`` map each person to a label (e.g. ethnicity and gender); a person
    must be in both. Useful to see how groups overlap: a difference between men and women can
    come from a different mix of other groups among them.

    >>> print(crosstab({"p1": "X", "p2": "X", "p3": "Y"}, {"p1": "f", "p2": "m", "p3": "f"}, row_title="group"))
    group  f  m  all
    -----  -  -  ---
    X      1  1    2
    Y      1  0    1
    """
    missing = sorted(set(rows) ^ set(columns))
    if missing:
        raise ValueError(f"crosstab: these people have only one of the two labels: {missing[:5]}")
    counts = Counter((rows[p], columns[p]) for p in rows)
    col_names = sorted(set(columns.values()))
    table = [{row_title or " ": r, **{c: str(counts[r, c]) for c in col_names}, "all": str(n)}
             for r, n in group_sizes(rows).items()]
    return _text.table(table)


def _group_of_samples(subject_ids: np.ndarray, groups: Mapping[Any, Any] | ArrayLike) -> np.ndarray:
    """The group label of every sample (as str), checking that each subject has exactly one."""
    if isinstance(groups, Mapping):
        missing = sorted({s for s in subject_ids.tolist() if s not in groups})
        if missing:
            raise ValueError(f"groups: no group given for subject(s) {missing[:5]}")
        return np.asarray([str(groups[s]) for s in subject_ids.tolist()])
    per_sample = np.asarray(groups).astype(str)
    if per_sample.shape != subject_ids.shape:
        raise ValueError(f"groups must be a {{subject: group}} mapping or one label per sample "
                         f"({len(subject_ids)}), got shape {per_sample.shape}")
    for s in np.unique(subject_ids):
        if np.unique(per_sample[subject_ids == s]).size > 1:
            raise ValueError(f"groups: subject {s!r} has samples in different groups; a person belongs to one group")
    return per_sample


def _prepare(embeddings: ArrayLike, subject_ids: ArrayLike,
             groups: Mapping[Any, Any] | ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _checks.faceprints("embeddings", embeddings)
    ids = _checks.labels("subject_ids", subject_ids, len(x))
    return x, ids, _group_of_samples(ids, groups)


def _compared(group_of_sample: np.ndarray, exclude: Iterable[str]) -> list[str]:
    """The sorted group names, without the excluded labels."""
    if isinstance(exclude, str):
        exclude = (exclude,)
    dropped = set(exclude)
    return [name for name in np.unique(group_of_sample).tolist() if name not in dropped]


def _check_min_people(min_people: int) -> None:
    if int(min_people) < 2:
        raise ValueError(f"min_people must be at least 2 (a group of one has no non-mated pair), got {min_people!r}")


# ---------------------------------------------------------------------------------------------
# Distances within each group
# ---------------------------------------------------------------------------------------------


def within_group_scores(embeddings: ArrayLike, subject_ids: ArrayLike, groups: Mapping[Any, Any] | ArrayLike,
                        *, min_people: int = 2, exclude: Iterable[str] = (NOT_REPORTED,)
                        ) -> dict[str, metrics.ComparisonScores]:
    """Mated and non-mated distances among the people of each group (groups in sorted order).

    The non-mated distances of group g compare two *different* people who are both in g; the
    mated ones compare two photos of one person of g. Groups with fewer than ``min_people``
    people, and the labels in ``exclude`` (by default "not reported": not a group), are left
    out. Pair indices refer to the rows of ``embeddings``.

    >>> s = within_group_scores([[0.0], [0.1], [1.0], [5.0], [5.5]], ["a", "a", "b", "c", "d"],
    ...                         {"a": "X", "b": "X", "c": "Y", "d": "Y"})
    >>> s["X"].nonmated.round(2).tolist(), s["X"].nonmated_pairs.tolist(), s["Y"].nonmated.tolist()
    ([1.0, 0.9], [[0, 2], [1, 2]], [0.5])
    """
    _check_min_people(min_people)
    x, ids, g = _prepare(embeddings, subject_ids, groups)
    out = {}
    for name in _compared(g, exclude):
        rows = np.flatnonzero(g == name)
        if np.unique(ids[rows]).size < min_people:
            continue
        s = metrics.mated_and_nonmated(x[rows], ids[rows])
        out[name] = metrics.ComparisonScores(s.mated, s.nonmated, rows[s.mated_pairs].reshape(-1, 2),
                                             rows[s.nonmated_pairs].reshape(-1, 2))
    return out


def within_group_fmr_curves(scores: Mapping[str, metrics.ComparisonScores],
                            thresholds: ArrayLike) -> dict[str, np.ndarray]:
    """FMR among each group's own non-mated pairs at every threshold: ``{group: fmr array}``.

    >>> s = within_group_scores([[0.0], [1.0], [3.0]], ["a", "b", "c"], {"a": "X", "b": "X", "c": "X"})
    >>> within_group_fmr_curves(s, [0.5, 1.0, 2.5])["X"].round(3).tolist()  # distances 1, 2, 3
    [0.0, 0.333, 0.667]
    """
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("thresholds must be a non-empty 1-D list of numbers")
    out = {}
    for name, s in scores.items():
        if s.nonmated.size:
            out[name] = np.searchsorted(np.sort(s.nonmated), t, side="right") / s.nonmated.size
    return out


# ---------------------------------------------------------------------------------------------
# Two intervals per group: pairs (Wilson) and people (bootstrap)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInterval(metrics.FalseMatchFields):
    """A group's within-group FMR with both intervals: over pairs (Wilson) and over people (bootstrap).

    With **no** false match in the group every bootstrap replicate is 0 too, so the bootstrap
    interval collapses to (0, 0): resampling cannot invent errors that were never seen. That is
    not evidence of a zero rate. The table then prints "n/a (0 errors)"; use an upper bound
    such as the Wilson one, or the rule of three (about 3 / number of person pairs) instead.

    ``false_match`` is the :class:`~facecourse.metrics.Rate` over photo pairs (false matches of
    the group's non-mated pairs, with its Wilson interval); ``false_matches``, ``nonmated_count``,
    ``fmr``, ``fmr_ci`` (the Wilson interval) and ``confidence`` read it, as in
    :class:`~facecourse.metrics.ErrorRates` and :class:`~facecourse.metrics.GroupFMR`.
    ``bootstrap`` is the interval over people, at the same confidence.
    """

    group: str
    people: int
    person_pairs: int
    false_match: metrics.Rate
    bootstrap: tuple[float, float]
    threshold: float
    n_boot: int
    seed: int

    @property
    def width_ratio(self) -> float:
        """How many times wider the people-bootstrap interval is than the Wilson interval."""
        wilson = self.fmr_ci
        w = wilson[1] - wilson[0]
        b = self.bootstrap[1] - self.bootstrap[0]
        return b / w if w > 0 and self.false_matches > 0 else math.nan

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`facecourse.metrics.format_table`."""
        conf = _text.confidence_label(self.confidence)
        return {
            "group": self.group,
            "people": f"{self.people}",
            "person pairs": f"{self.person_pairs:,}",
            "photo pairs": f"{self.nonmated_count:,}",
            "false matches": f"{self.false_matches:,}",
            "FMR": _text.percent(self.fmr),
            f"{conf} CI, pairs (Wilson)": _text.interval(self.fmr_ci),
            f"{conf} CI, people (bootstrap)": (_text.interval(self.bootstrap) if self.false_matches
                                                else "n/a (0 errors)"),
            "width ratio": "n/a" if math.isnan(self.width_ratio) else f"{self.width_ratio:.1f}x",
        }


def within_group_intervals(
    embeddings: ArrayLike,
    subject_ids: ArrayLike,
    groups: Mapping[Any, Any] | ArrayLike,
    threshold: float,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    min_people: int = 2,
    exclude: Iterable[str] = (NOT_REPORTED,),
    order: Sequence[str] | None = None,
) -> list[GroupInterval]:
    """Each group's within-group FMR at ``threshold``, with a Wilson and a people-bootstrap interval.

    The counts come from the group's own non-mated distances (:func:`within_group_scores`),
    the Wilson interval from a :class:`facecourse.metrics.Rate` of those counts, and the bootstrap is
    :func:`facecourse.metrics.fmr_bootstrap_by_subject` on the group's own photos with the same
    ``seed`` for every group, so any row can be checked by calling it directly. (Counts and
    bootstrap both use distances computed among the group's photos only: at a threshold equal
    to an observed distance, such as one from
    :func:`facecourse.metrics.threshold_for_fmr_by_group`, distances recomputed within a
    larger set can differ in the last bit and flip that one pair.) Groups with fewer than
    ``min_people`` people, and the labels in ``exclude`` (by default "not reported"), are left out.
    The rows come largest group first (ties by name), or in the given ``order`` (e.g. age bands
    youngest first; groups not named come last).

    >>> emb = [[0.0], [0.3], [5.0], [5.2], [9.0]]
    >>> rows = within_group_intervals(emb, ["a", "b", "c", "d", "e"],
    ...                               {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Y"}, 0.5, n_boot=50)
    >>> [(r.group, r.false_matches, r.nonmated_count, r.person_pairs) for r in rows]
    [('Y', 1, 3, 3), ('X', 1, 1, 1)]
    """
    _check_min_people(min_people)
    x, ids, g = _prepare(embeddings, subject_ids, groups)
    _checks.confidence(confidence)
    t = _checks.threshold(threshold)
    scores = within_group_scores(x, ids, g, min_people=min_people, exclude=exclude)
    people = {name: np.unique(ids[g == name]).size for name in scores}
    rank = {name: k for k, name in enumerate(order or ())}
    names = sorted(scores, key=lambda n: (rank.get(n, len(rank)), -people[n], n))
    rows = []
    for name in names:
        nonmated = scores[name].nonmated
        k, n_pairs = int(np.count_nonzero(nonmated <= t)), int(nonmated.size)
        members = g == name
        boot = metrics.fmr_bootstrap_by_subject(x[members], ids[members], t, n_boot=n_boot, seed=seed,
                                                confidence=confidence)
        n = people[name]
        rows.append(GroupInterval(name, n, n * (n - 1) // 2, metrics.Rate(k, n_pairs, confidence, "FMR"),
                                  (boot.lo, boot.hi), t, int(n_boot), int(seed)))
    return rows


# ---------------------------------------------------------------------------------------------
# Comparing two groups: bootstrap of the difference, people resampled within each group
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FMRDifference:
    """Group A's within-group FMR minus (and divided by) group B's, with bootstrap intervals.

    ``share_a_not_higher`` is the share of bootstrap replicates in which A's FMR was *not*
    higher than B's: near 0 means the data consistently put A above B; near 0.5 means they
    cannot tell the two apart. (It is a rough one-sided bootstrap p-value for "A is higher".)
    ``ratio_ci`` can reach ``inf`` when some replicates of B have no false match at all.
    """

    group_a: str
    group_b: str
    fmr_a: float
    fmr_b: float
    difference: float
    difference_ci: tuple[float, float]
    ratio: float
    ratio_ci: tuple[float, float]
    share_a_not_higher: float
    replicates_used: int
    n_boot: int
    seed: int
    confidence: float = 0.95
    difference_replicates: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.empty(0))

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`facecourse.metrics.format_table`."""
        conf = _text.confidence_label(self.confidence)
        return {
            "A vs B": f"{self.group_a} vs {self.group_b}",
            "FMR A": _text.percent(self.fmr_a),
            "FMR B": _text.percent(self.fmr_b),
            "A - B": _points(self.difference),
            f"{conf} CI (people)": f"{_points(self.difference_ci[0])} to {_points(self.difference_ci[1])}",
            "A / B": _times(self.ratio),
            f"ratio {conf} CI": f"{_times(self.ratio_ci[0])} to {_times(self.ratio_ci[1])}",
            "replicates with A <= B": (f"{round(self.share_a_not_higher * self.replicates_used):,} of "
                                       f"{self.replicates_used:,}"),
        }


def fmr_difference_bootstrap(
    embeddings: ArrayLike,
    subject_ids: ArrayLike,
    groups: Mapping[Any, Any] | ArrayLike,
    group_a: str,
    group_b: str,
    threshold: float,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> FMRDifference:
    """Compare two groups' within-group FMRs, resampling *people within each group*.

    Each replicate draws, with replacement, as many people of A as A has and as many of B as B
    has (a stratified bootstrap: the group sizes stay those of the study), computes both
    within-group FMRs as :func:`facecourse.metrics.fmr_bootstrap_by_subject` does, and keeps
    their difference ``A - B`` and ratio ``A / B``. The intervals are the central
    ``confidence`` share of the replicates (percentile method); replicates where either FMR is
    undefined (a group of two that drew the same person twice) are left out.

    The two groups get independent random streams (``numpy.random.SeedSequence(seed).spawn(2)``):
    drawing both from the same seed would tie the two groups' draws together.

    Hand-worked example: in group X the two people are 0.1 apart (a false match at 0.5), in
    group Y they are 2 apart (none). Every defined replicate has FMR_X = 1 and FMR_Y = 0, so
    the difference is 1 with interval (1, 1), and A is never below B.

    >>> d = fmr_difference_bootstrap([[0.0], [0.1], [5.0], [7.0]], ["a", "b", "c", "d"],
    ...                              {"a": "X", "b": "X", "c": "Y", "d": "Y"}, "X", "Y", 0.5, n_boot=200)
    >>> d.difference, d.difference_ci, d.share_a_not_higher, d.ratio
    (1.0, (1.0, 1.0), 0.0, inf)
    """
    _checks.confidence(confidence)
    x, ids, g = _prepare(embeddings, subject_ids, groups)
    threshold = _checks.threshold(threshold)
    if group_a == group_b:
        raise ValueError("fmr_difference_bootstrap: compare two different groups")
    results = []
    child_seeds = np.random.SeedSequence(int(seed)).spawn(2)
    for name, child in zip((group_a, group_b), child_seeds, strict=True):
        members = g == str(name)
        if np.unique(ids[members]).size < 2:
            known = sorted(np.unique(g).tolist())
            raise ValueError(f"fmr_difference_bootstrap: group {name!r} has fewer than 2 people, so no "
                             f"within-group FMR; groups are {known}")
        results.append(metrics.fmr_bootstrap_by_subject(x[members], ids[members], threshold, n_boot=n_boot,
                                                         seed=int(child.generate_state(1)[0]),
                                                         confidence=confidence))
    a, b = results
    ok = ~np.isnan(a.replicates) & ~np.isnan(b.replicates)
    diff = a.replicates[ok] - b.replicates[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a.replicates[ok] / b.replicates[ok]
    ratio = ratio[~np.isnan(ratio)]  # 0 / 0: both groups had no false match; no ratio
    alpha = 1 - confidence
    if diff.size:
        lo, hi = np.quantile(diff, [alpha / 2, 1 - alpha / 2])
        diff_ci = (float(lo), float(hi))
        share = float(np.mean(diff <= 0))
    else:
        diff_ci, share = (math.nan, math.nan), math.nan
    if ratio.size:
        # "inverted_cdf" picks observed replicates, never interpolates: an interval may end at inf.
        rlo, rhi = np.quantile(ratio, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
        ratio_ci = (float(rlo), float(rhi))
    else:
        ratio_ci = (math.nan, math.nan)
    est_ratio = _safe_ratio(a.estimate, b.estimate)
    return FMRDifference(str(group_a), str(group_b), a.estimate, b.estimate, a.estimate - b.estimate, diff_ci,
                         est_ratio, ratio_ci, share, int(ok.sum()), int(n_boot), int(seed), confidence, diff)


def _safe_ratio(a: float, b: float) -> float:
    if b > 0:
        return a / b
    return math.inf if a > 0 else math.nan


# ---------------------------------------------------------------------------------------------
# Why pairs are not independent: who is in the false matches
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FalseMatchPeople:
    """How a group's false matches spread over its people.

    ``top_person_share`` is the share of the group's false matches that involve its most
    often falsely matched person; ``people_involved`` counts the people in at least one.
    """

    group: str
    people: int
    false_matches: int
    people_involved: int
    top_person: str
    top_person_false_matches: int

    @property
    def top_person_share(self) -> float:
        return self.top_person_false_matches / self.false_matches if self.false_matches else math.nan

    def as_row(self) -> dict[str, str]:
        return {
            "group": self.group,
            "people": f"{self.people}",
            "false matches": f"{self.false_matches:,}",
            "people in >= 1": f"{self.people_involved}",
            "busiest person in": f"{self.top_person_false_matches:,}",
            "share": _text.percent(self.top_person_share, 0, tiny=False),
        }


def false_match_people(embeddings: ArrayLike, subject_ids: ArrayLike, groups: Mapping[Any, Any] | ArrayLike,
                       threshold: float, *, min_people: int = 2,
                       exclude: Iterable[str] = (NOT_REPORTED,)) -> list[FalseMatchPeople]:
    """For each group, how many of its people are in its within-group false matches, and how unevenly.

    A false match is a non-mated pair of photos, of two people of the group, at distance
    <= ``threshold``; it involves both people. Rows come largest group first.

    >>> rows = false_match_people([[0.0], [0.3], [0.4], [9.0]], ["a", "b", "c", "d"],
    ...                           {"a": "X", "b": "X", "c": "X", "d": "X"}, 0.35)
    >>> r = rows[0]   # pairs within 0.35: a-b (0.3) and b-c (0.1); b is in both
    >>> r.false_matches, r.people_involved, r.top_person, r.top_person_false_matches
    (2, 3, 'b', 2)
    """
    _check_min_people(min_people)
    x, ids, g = _prepare(embeddings, subject_ids, groups)
    t = _checks.threshold(threshold)
    rows = []
    for name in _compared(g, exclude):
        member_ids = ids[g == name]
        people = np.unique(member_ids).size
        if people < min_people:
            continue
        s = metrics.mated_and_nonmated(x[g == name], member_ids)
        hit_pairs = s.nonmated_pairs[s.nonmated <= t]
        involved, counts = np.unique(member_ids[hit_pairs.ravel()], return_counts=True)
        if involved.size:
            k = int(np.argmax(counts))  # the first of the most frequent, in sorted-id order
            top, top_n = str(involved[k]), int(counts[k])
        else:
            top, top_n = "", 0
        rows.append(FalseMatchPeople(name, int(people), len(hit_pairs), int(involved.size), top, top_n))
    return sorted(rows, key=lambda r: (-r.people, r.group))


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def _points(x: float) -> str:
    """A difference of two rates in percentage points."""
    return "n/a" if math.isnan(x) else f"{100 * x:+.2f} pp"


def _times(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "unbounded"
    return f"{x:.3g}x"
