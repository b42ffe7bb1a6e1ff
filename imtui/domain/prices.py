"""The price list: data shipped with the package, replaceable by a file of the same shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from imtui.domain.editions import ITEMS, OFFERED, PAID_EDITIONS, Package, label
from imtui.domain.errors import InvalidInput

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PriceList:
    """Monthly price of every setting, per edition; settings not listed cost nothing."""

    currency: str
    monthly: dict[tuple[str, str, str], Decimal]

    def price(self, edition: str, item: str, value: Any) -> Decimal:
        """Monthly price of one item's setting under an edition."""
        return self.monthly.get((edition, item, label(item, value)), ZERO)

    def package_price(self, package: Package) -> Decimal:
        """Monthly price of a whole package."""
        return sum((self.price(package.edition, item, package.value(item)) for item in ITEMS), ZERO)

    def choices(self, edition: str, item: str) -> list[tuple[Any, Decimal]]:
        """The values an edition offers for an item with their monthly prices."""
        return [(value, self.price(edition, item, value)) for value in OFFERED[edition][item]]


def parse_price_list(data: dict) -> PriceList:
    """Builds a price list from the JSON shape of `prices.json`, refusing unknown settings."""
    try:
        currency = str(data["currency"])
        monthly: dict[tuple[str, str, str], Decimal] = {}
        for edition, items in data["monthly"].items():
            if edition not in PAID_EDITIONS:
                raise InvalidInput(
                    f"price list: {edition!r} cannot be priced (only {', '.join(PAID_EDITIONS)}; trial is free)"
                )
            for item, settings in items.items():
                if item not in ITEMS:
                    raise InvalidInput(f"price list: unknown item {item!r}")
                offered = {edition} if item == "edition" else {label(item, v) for v in OFFERED[edition][item]}
                for setting, amount in settings.items():
                    if setting not in offered:
                        raise InvalidInput(f"price list: {edition} does not offer {item} {setting!r}")
                    price = Decimal(str(amount))
                    if price < 0 or price != price.quantize(CENT):
                        raise InvalidInput(f"price list: {edition} {item} {setting} has an invalid price {amount!r}")
                    monthly[(edition, item, setting)] = price
    except (KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise InvalidInput(f"price list is not of the expected shape ({exc})") from None
    return PriceList(currency, monthly)


def load_price_list(path: str | Path | None = None) -> PriceList:
    """Loads the shipped price list, or the file at `path` when given."""
    if path is None:
        text = resources.files("imtui.domain").joinpath("prices.json").read_text("utf-8")
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read price list {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"price list {path or 'prices.json'} is not valid JSON ({exc})") from None
    return parse_price_list(data)


def to_cents(amount: Decimal) -> int:
    """An amount of whole cents as an integer."""
    return int(amount * 100)


def from_cents(cents: int) -> Decimal:
    """Integer cents as an amount with two decimals."""
    return (Decimal(cents) / 100).quantize(CENT)
