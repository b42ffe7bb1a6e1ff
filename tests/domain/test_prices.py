"""The price list (domain.md §3): shipped as data, replaceable by a file of the same shape."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources

import pytest

from imtui.domain.editions import (
    EDITION,
    FLAGSHIP,
    GROUPS_PER_USER,
    HISTORY_DAYS,
    LIVE_GROUPS,
    MEMBERS_PER_GROUP,
    PRO,
    TRIAL,
    UNLIMITED,
    default_package,
)
from imtui.domain.errors import InvalidInput
from imtui.domain.prices import load_price_list, parse_price_list

D = Decimal
SHIPPED = load_price_list()


def shipped_data() -> dict:
    return json.loads(resources.files("imtui.domain").joinpath("prices.json").read_text("utf-8"))


@pytest.mark.parametrize(
    "edition, item, value, price",
    [
        (PRO, EDITION, PRO, "449.99"),
        (FLAGSHIP, EDITION, FLAGSHIP, "899.99"),
        (PRO, LIVE_GROUPS, UNLIMITED, "449.99"),
        (FLAGSHIP, LIVE_GROUPS, UNLIMITED, "0.00"),
        (PRO, LIVE_GROUPS, 50, "0.00"),
        (PRO, GROUPS_PER_USER, 500, "0.00"),
        (PRO, GROUPS_PER_USER, 1000, "449.99"),
        (FLAGSHIP, GROUPS_PER_USER, 1000, "0.00"),
        (FLAGSHIP, GROUPS_PER_USER, 3000, "449.99"),
        (PRO, MEMBERS_PER_GROUP, 200, "0.00"),
        (PRO, MEMBERS_PER_GROUP, 2000, "239.99"),
        (FLAGSHIP, MEMBERS_PER_GROUP, 2000, "0.00"),
        (FLAGSHIP, MEMBERS_PER_GROUP, 6000, "239.99"),
        (PRO, HISTORY_DAYS, 7, "0.00"),
        (PRO, HISTORY_DAYS, 30, "99.99"),
        (PRO, HISTORY_DAYS, 90, "179.99"),
        (PRO, HISTORY_DAYS, 180, "269.99"),
        (PRO, HISTORY_DAYS, 360, "399.99"),
        (FLAGSHIP, HISTORY_DAYS, 30, "0.00"),
        (FLAGSHIP, HISTORY_DAYS, 90, "99.99"),
        (FLAGSHIP, HISTORY_DAYS, 180, "179.99"),
        (FLAGSHIP, HISTORY_DAYS, 360, "319.99"),
        (TRIAL, EDITION, TRIAL, "0.00"),
        (TRIAL, HISTORY_DAYS, 7, "0.00"),
    ],
)
def test_shipped_prices(edition, item, value, price):
    """The shipped list has the prices of domain.md §3, as exact Decimals."""
    got = SHIPPED.price(edition, item, value)
    assert isinstance(got, Decimal)
    assert got == D(price)


def test_shipped_currency_and_package_prices():
    """USD; a default package costs its edition's price; trial costs nothing."""
    assert SHIPPED.currency == "USD"
    assert SHIPPED.package_price(default_package(TRIAL)) == D("0.00")
    assert SHIPPED.package_price(default_package(PRO)) == D("449.99")
    assert SHIPPED.package_price(default_package(FLAGSHIP)) == D("899.99")


def test_choices_list_every_offered_value_with_its_price():
    """The choices shown for an item are the edition's values with their prices."""
    assert SHIPPED.choices(PRO, LIVE_GROUPS) == [(50, D("0.00")), (UNLIMITED, D("449.99"))]
    assert SHIPPED.choices(FLAGSHIP, HISTORY_DAYS) == [
        (30, D("0.00")),
        (90, D("99.99")),
        (180, D("179.99")),
        (360, D("319.99")),
    ]


def test_replacement_file_of_the_same_shape(tmp_path):
    """A replacement file changes prices without a release."""
    data = shipped_data()
    data["monthly"]["pro"]["edition"]["pro"] = "499.00"
    data["monthly"]["flagship"]["history_days"]["360"] = "350.50"
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), "utf-8")
    prices = load_price_list(path)
    assert prices.price(PRO, EDITION, PRO) == D("499.00")
    assert prices.price(FLAGSHIP, HISTORY_DAYS, 360) == D("350.50")
    assert prices.price(PRO, MEMBERS_PER_GROUP, 2000) == D("239.99")
    assert load_price_list(str(path)).monthly == prices.monthly


def test_replacement_file_identical_to_shipped_loads_the_same(tmp_path):
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(shipped_data()), "utf-8")
    assert load_price_list(path) == SHIPPED


def test_settings_not_listed_cost_nothing(tmp_path):
    """A file that omits a setting makes it free."""
    data = shipped_data()
    del data["monthly"]["pro"]["history_days"]["30"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), "utf-8")
    assert load_price_list(path).price(PRO, HISTORY_DAYS, 30) == D("0.00")


def _mutations():
    def set_(path, value):
        def apply(data):
            node = data
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value

        return apply

    return [
        pytest.param(set_(("monthly", "pro", "groups_per_user", "700"), "1.00"), id="unknown-groups-setting"),
        pytest.param(set_(("monthly", "pro", "groups_per_user", "3000"), "1.00"), id="setting-of-another-edition"),
        pytest.param(set_(("monthly", "flagship", "live_groups"), {"50": "1.00"}), id="flagship-live-50"),
        pytest.param(
            set_(("monthly", "flagship", "live_groups"), {"unlimited": "-1.00"}), id="flagship-negative-included"
        ),
        pytest.param(set_(("monthly", "pro", "history_days", "60"), "1.00"), id="unknown-history-tier"),
        pytest.param(set_(("monthly", "pro", "edition", "flagship"), "1.00"), id="edition-label-of-another-edition"),
        pytest.param(set_(("monthly", "gold"), {}), id="unknown-edition"),
        pytest.param(set_(("monthly", "pro", "dau"), {}), id="unknown-item"),
        pytest.param(set_(("monthly", "pro", "edition", "pro"), "-449.99"), id="negative"),
        pytest.param(set_(("monthly", "pro", "history_days", "30"), "-0.01"), id="negative-cent"),
        pytest.param(set_(("monthly", "pro", "edition", "pro"), "449.999"), id="sub-cent"),
        pytest.param(set_(("monthly", "pro", "edition", "pro"), "cheap"), id="not-a-number"),
        pytest.param(set_(("monthly", "pro", "edition", "pro"), "NaN"), id="nan"),
        pytest.param(set_(("monthly", "pro", "edition", "pro"), "Infinity"), id="infinity"),
        pytest.param(set_(("monthly", "pro", "edition", "pro"), None), id="null"),
        pytest.param(set_(("monthly",), []), id="monthly-not-an-object"),
        pytest.param(lambda data: data.pop("monthly"), id="no-monthly"),
        pytest.param(lambda data: data.pop("currency"), id="no-currency"),
    ]


@pytest.mark.parametrize("mutate", _mutations())
def test_bad_replacement_file_is_invalid_input(tmp_path, mutate):
    """A file with an unknown setting, a negative or malformed price is refused (exit 2)."""
    data = shipped_data()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(InvalidInput) as info:
        load_price_list(path)
    assert info.value.exit_code == 2


def test_trial_cannot_be_priced(tmp_path):
    """Trial costs nothing and has no paid items: a file pricing it is refused."""
    data = shipped_data()
    data["monthly"]["trial"] = {"edition": {"trial": "9.99"}}
    path = tmp_path / "trial.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(InvalidInput):
        load_price_list(path)


@pytest.mark.parametrize("text", ["", "{", "not json", "[1, 2]", "null"])
def test_unreadable_json_is_invalid_input(tmp_path, text):
    path = tmp_path / "broken.json"
    path.write_text(text, "utf-8")
    with pytest.raises(InvalidInput):
        load_price_list(path)


def test_missing_file_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInput):
        load_price_list(tmp_path / "nowhere.json")


def test_numbers_in_json_are_read_exactly():
    """A price written as a JSON number is read as the exact decimal it shows."""
    data = shipped_data()
    data["monthly"]["pro"]["edition"]["pro"] = 449.99
    assert parse_price_list(data).price(PRO, EDITION, PRO) == D("449.99")
