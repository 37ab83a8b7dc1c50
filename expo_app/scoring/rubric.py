"""Rubric arithmetic: validating a judge's values and turning them into weighted totals.

Pure module: no Flask, no ORM. Criteria and values come in as plain mappings so the ranking engine,
the views and the CLI share one definition of a rubric total.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping


@dataclass(frozen=True)
class CriterionSpec:
    """What the maths needs to know about one rubric criterion."""

    name: str
    weight: float
    min: int
    max: int

    @classmethod
    def from_mapping(cls, m: Mapping) -> "CriterionSpec":
        return cls(str(m["name"]), float(m["weight"]), int(m["min"]), int(m["max"]))

    def fraction(self, value: float) -> float:
        """Where `value` sits on this criterion's scale: 0.0 at the minimum, 1.0 at the maximum."""
        return (value - self.min) / (self.max - self.min)


def as_specs(criteria: Iterable) -> list[CriterionSpec]:
    """Accept CriterionSpec objects or mappings with keys name, weight, min, max."""
    return [c if isinstance(c, CriterionSpec) else CriterionSpec.from_mapping(c) for c in criteria]


def validate_values(values: Mapping[str, object], criteria: Iterable) -> tuple[dict[str, int], dict[str, str]]:
    """Check one judge's values for one team against the rubric.

    Returns (clean values keyed by criterion name, error message keyed by criterion name). Every
    criterion needs a whole number within its scale; an empty error dict means the values are good.
    """
    clean: dict[str, int] = {}
    errors: dict[str, str] = {}
    for c in as_specs(criteria):
        raw = values.get(c.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors[c.name] = f"Choose a score for {c.name} ({c.min}–{c.max})."
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            errors[c.name] = f"{raw!s} is not a number; choose {c.min}–{c.max}."
            continue
        if not number.is_integer():
            errors[c.name] = f"{raw!s} is not a whole number; choose {c.min}–{c.max}."
            continue
        if not c.min <= number <= c.max:
            errors[c.name] = f"{int(number)} is outside the scale {c.min}–{c.max}."
            continue
        clean[c.name] = int(number)
    return clean, errors


def weighted_total(values: Mapping[str, float], criteria: Iterable) -> float:
    """The rubric total of one score sheet, in points out of 100.

    Rule: each criterion contributes its position on its own scale (minimum = 0, maximum = 1),
    weighted by its weight; the weighted mean is multiplied by 100. So a sheet at the top of every
    scale is 100, at the bottom of every scale 0, whatever the scales and weights are. Every
    criterion must have a value.
    """
    specs = as_specs(criteria)
    total_weight = sum(c.weight for c in specs)
    if total_weight <= 0:
        raise ValueError("the criteria's weights must add up to more than zero")
    return 100.0 * sum(c.weight * c.fraction(values[c.name]) for c in specs) / total_weight


def parse_descriptors(text: str, scale_min: int, scale_max: int) -> tuple[list[tuple[int, int, str]], list[str]]:
    """Parse level descriptors written one per line as `3: text` or as a band `1-2: text`.

    Returns (bands as (low, high, text) sorted by low, errors naming the line). Bands must lie on the
    scale and must not overlap; levels no band covers simply have no descriptor.
    """
    bands: list[tuple[int, int, str]] = []
    errors: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head, sep, body = line.partition(":")
        if not sep or not body.strip():
            errors.append(f"Line {lineno}: write it as 'level: description' or 'low-high: description'.")
            continue
        low_s, dash, high_s = head.strip().replace("–", "-").partition("-")
        try:
            low = int(low_s)
            high = int(high_s) if dash else low
        except ValueError:
            errors.append(f"Line {lineno}: '{head.strip()}' is not a level or a range of levels.")
            continue
        if low > high:
            errors.append(f"Line {lineno}: the range {low}-{high} runs backwards.")
        elif low < scale_min or high > scale_max:
            errors.append(f"Line {lineno}: {head.strip()} is outside the scale {scale_min}–{scale_max}.")
        else:
            bands.append((low, high, body.strip()))
    bands.sort()
    for (l1, h1, _), (l2, h2, _) in zip(bands, bands[1:]):
        if l2 <= h1:
            errors.append(f"Levels {l1}-{h1} and {l2}-{h2} overlap.")
    return bands, errors


def format_descriptors(bands: Iterable[tuple[int, int, str]]) -> str:
    """The inverse of parse_descriptors: one `level: text` or `low-high: text` per line."""
    return "\n".join(f"{lo}: {t}" if lo == hi else f"{lo}-{hi}: {t}" for lo, hi, t in bands)


def level_rows(bands: Iterable[tuple[int, int, str]], scale_min: int, scale_max: int) -> list[tuple[str, list[int]]]:
    """Group the levels of a scale into rows for the scoring form, highest first.

    Each band becomes a row (its descriptor, its levels); levels outside every band get a row of
    their own with no descriptor. Highest first, so the best level reads first on a phone.
    """
    covered = {}
    for lo, hi, text in bands:
        for level in range(lo, hi + 1):
            covered[level] = (lo, hi, text)
    rows: list[tuple[str, list[int]]] = []
    level = scale_max
    while level >= scale_min:
        if level in covered:
            lo, hi, text = covered[level]
            rows.append((text, list(range(hi, lo - 1, -1))))
            level = lo - 1
        else:
            rows.append(("", [level]))
            level -= 1
    return rows
