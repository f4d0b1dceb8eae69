import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oresight.io.values import parse_value


@pytest.mark.parametrize(
    ("cell", "value", "status"),
    [
        ("1,234", 1234.0, "reported"),
        (" 42 ", 42.0, "reported"),
        ("0.75", 0.75, "reported"),
        ("—", 0.0, "reported"),
        ("W", math.nan, "withheld"),
        ("E", math.nan, "net_exporter"),
        (">95", 95.0, "lower_bound"),
        ("<1,000", 1000.0, "upper_bound"),
        ("?10", 10.0, "upper_bound"),
        ("50–300", 175.0, "range"),
        ("190 - 290", 240.0, "range"),
        ("−88", -88.0, "reported"),
    ],
)
def test_usgs_codes(cell, value, status):
    parsed = parse_value(cell)
    assert parsed.status == status
    assert (math.isnan(parsed.value) and math.isnan(value)) or parsed.value == value


@pytest.mark.parametrize("cell", ["NA", "", "XX", "Large", "Moderate to large", None, "Variable, depending on type"])
def test_cells_without_a_number_are_none(cell):
    assert parse_value(cell) is None


def test_small_is_an_upper_bound_of_half_a_unit():
    for cell in ("s", "Less than ½ unit.", "less than 1/2 unit"):
        parsed = parse_value(cell)
        assert parsed.status == "upper_bound" and parsed.high == 0.5 and math.isnan(parsed.value)


def test_estimated_flag():
    assert parse_value("10", estimated=True).status == "estimated"


def test_garbage_is_an_error():
    with pytest.raises(ValueError, match="not a value"):
        parse_value("ten tons")


@given(st.integers(min_value=0, max_value=10**12))
def test_thousands_separators_round_trip(number):
    assert parse_value(f"{number:,}").value == number


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False), st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_ranges_are_ordered_and_centred(a, b):
    parsed = parse_value(f"{a:.2f}–{b:.2f}")
    assert parsed.low <= parsed.value <= parsed.high
