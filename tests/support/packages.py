"""Every package the editions offer (each combination of each edition's offered settings): what
the property tests of the headroom rules draw from."""

from __future__ import annotations

import itertools

from imtui.domain.editions import OFFERED, Package

PACKAGES = [
    Package(edition, live, gpu, mpg, hist)
    for edition, offered in OFFERED.items()
    for live, gpu, mpg, hist in itertools.product(
        offered["live_groups"], offered["groups_per_user"], offered["members_per_group"], offered["history_days"]
    )
]
