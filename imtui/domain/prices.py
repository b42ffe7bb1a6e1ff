"""The price list: data shipped with the package, replaceable by a file of the same shape."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from imtui.domain.editions import ITEMS, OFFERED, PAID_EDITIONS, Package, label
from imtui.domain.errors import InvalidInput

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Overage:
    """The price of usage above a quota: `price` per started `block` above `included`."""

    included: int
    block: int
    price: Decimal

    def blocks(self, peak: int) -> int:
        """Started blocks above the included quota (none at or below it)."""
        return max(0, -(-(peak - self.included) // self.block))


@dataclass(frozen=True)
class PriceList:
    """Monthly price of every setting, per edition; settings not listed cost nothing; and the
    price of daily active users and groups above the included quotas."""

    currency: str
    monthly: dict[tuple[str, str, str], Decimal]
    dau: Overage = Overage(10_000, 10_000, Decimal("449.99"))
    groups: Overage = Overage(100_000, 100_000, Decimal("449.99"))

    def price(self, edition: str, item: str, value: Any) -> Decimal:
        """Monthly price of one item's setting under an edition."""
        return self.monthly.get((edition, item, label(item, value)), ZERO)

    def setting(self, edition: str, item: str, value: Any) -> tuple[int, str]:
        """(monthly price in cents, label) of one item's setting under an edition: what a month
        plan's line is made of (remembered: plans ask for the same few settings again and again)."""
        key = (edition, item, value)
        known = self._settings.get(key)
        if known is None:
            known = self._settings[key] = (to_cents(self.price(edition, item, value)), label(item, value))
        return known

    @cached_property
    def _settings(self) -> dict[tuple[str, str, Any], tuple[int, str]]:
        return {}

    @cached_property
    def fingerprint(self) -> str:
        """A short digest of every price: what a plan priced with this list is marked with."""
        text = repr(sorted(self.monthly.items())) + repr((self.dau, self.groups))
        return hashlib.sha1(text.encode()).hexdigest()[:16]

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
        usage = data["usage"]
        dau, groups = (_overage(usage, kind) for kind in ("dau", "groups"))
    except (KeyError, TypeError, AttributeError, InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"price list is not of the expected shape ({exc})") from None
    return PriceList(currency, monthly, dau, groups)


def _overage(usage: dict, kind: str) -> Overage:
    """One usage price of the `usage` section: `{kind}_included`, `{kind}_block`, `{kind}_block_price`."""
    included, block = int(usage[f"{kind}_included"]), int(usage[f"{kind}_block"])
    price = Decimal(str(usage[f"{kind}_block_price"]))
    if included < 0 or block < 1 or price < 0 or price != price.quantize(CENT):
        raise InvalidInput(f"price list: the {kind} overage price is invalid")
    return Overage(included, block, price)


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
