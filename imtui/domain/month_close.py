"""Month close, in two steps (domain.md §5, Decision): bills are pushed between the 1st and the
3rd because a day's usage statistics arrive after the day ends.

- **draft**, when the clock passes 00:00 on the 1st: the finished month's package lines can no
  longer change (time only moves forward), but usage for its days is still accepted;
- **issued**, when the clock passes 00:00 on the 3rd: every account's bill is written and never
  changes again; usage for its days is refused.

Each step takes effect at its own instant however late it is carried out.
"""

from __future__ import annotations

from datetime import datetime

from imtui.domain.calendar import Month, day_bounds

ISSUE_DAY = 3
"""The day of the next month at whose 00:00 a month's bills are issued."""

OPEN, DRAFT, ISSUED = "open", "draft", "issued"


def draft_instant(month: Month, tz: str) -> datetime:
    """00:00 on the 1st of the next month: from then on the month is a draft."""
    return month.end(tz)


def issue_instant(month: Month, tz: str) -> datetime:
    """00:00 on the 3rd of the next month: from then on the month is issued."""
    return day_bounds(month.next(), tz)[ISSUE_DAY - 1]
