"""Checking a FOCUS file with the FinOps Foundation's validator (`focus-validator`, PyPI).

Its newest release (1.0.0) validates FOCUS 1.0 (it also knows 0.5 and 1.0-preview). Its 1.0 rule
set still names five things as FOCUS 1.0-preview did: the columns `Provider`, `Publisher`,
`InvoiceIssuer` and `ResourceID` (FOCUS 1.0: `ProviderName`, `PublisherName`,
`InvoiceIssuerName`, `ResourceId`) and, in the rule `SkuPriceId_Nullable`, `ChargeType` (FOCUS
1.0: `ChargeCategory`). A file with FOCUS 1.0's names fails exactly those five checks, so
`validate` runs two ways:

- `stock`: the validator's own rules and its own loader, unchanged;
- `corrected`: the same rules with only those names put right, over the file read with the
  columns FOCUS types String as text (the validator's loader lets pandas guess each column's
  type, so an ID of digits such as `ResourceId` would read as a number).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

VERSION = "1.0"
RENAMED = {
    "Provider": "ProviderName",
    "Publisher": "PublisherName",
    "InvoiceIssuer": "InvoiceIssuerName",
    "ResourceID": "ResourceId",
}
MISNAMED_CHECKS = {f"{old}_Required" for old in RENAMED} | {"SkuPriceId_Nullable"}
"""What the stock rules fail on a FOCUS 1.0 file, because of their old names alone."""


def _package_dir() -> Path:
    import focus_validator

    return Path(focus_validator.__file__).resolve().parent


def corrected_rules(into: Path) -> Path:
    """A copy of the validator's FOCUS 1.0 rules with FOCUS 1.0's names (see above)."""
    from focus_validator.validator import DEFAULT_VERSION_SETS_PATH

    target = into / VERSION
    shutil.copytree(Path(DEFAULT_VERSION_SETS_PATH) / VERSION, target)
    for rule in target.iterdir():
        text = rule.read_text()
        for old, new in RENAMED.items():
            text = text.replace(f"column_id: {old}\n", f"column_id: {new}\n")
        text = text.replace("WHEN ChargeType IN", "WHEN ChargeCategory IN")
        rule.write_text(text)
    return into


def validate(path: Path, monkeypatch, rules: Path | None = None) -> dict[str, str]:
    """Each check's outcome (`passed`, `failed`, `errored`, `skipped`) on the file: with the stock
    rules and loader when `rules` is None, else with those rules and the String columns as text.
    `monkeypatch` moves into the validator's install directory while it runs: it reads its
    currency codes from a path relative to the working directory."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pandera 0.17 on multimethod 1.12
        return _validate(Path(path).resolve(), monkeypatch, rules)


def _validate(path: Path, monkeypatch, rules: Path | None) -> dict[str, str]:
    import pandas as pd
    from focus_validator.config_objects.common import DataTypeCheck, DataTypes
    from focus_validator.data_loaders.data_loader import DataLoader
    from focus_validator.rules.spec_rules import SpecRules
    from focus_validator.validator import DEFAULT_VERSION_SETS_PATH

    spec = SpecRules(
        override_filename=None,
        rule_set_path=str(rules or DEFAULT_VERSION_SETS_PATH),
        rules_version=VERSION,
        column_namespace=None,
    )
    with monkeypatch.context() as m:
        m.chdir(_package_dir().parent)
        spec.load()
        if rules is None:
            data = DataLoader(data_filename=str(path)).load()
        else:
            text = {
                r.column_id: str
                for r in spec.rules
                if isinstance(getattr(r, "check", None), DataTypeCheck) and r.check.data_type == DataTypes.STRING
            }
            data = pd.read_csv(path, dtype=text)
        result = spec.validate(data)
    return {name: check.status.value for name, check in result.checklist.items()}
