"""Cron expressions, in the Unix 5-field form and in AWS Glue's ``cron(min hour dom month dow year)``.

Written here rather than taken from croniter, which reads AWS's 6th field as seconds. Next-fire
times are computed on the wall clock of a named time zone (``zoneinfo``): a wall time that DST
skips fires at the same instant one hour later, and a wall time that DST repeats fires once.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
AWS_FORM = re.compile(r"cron\((?P<body>.*)\)", re.IGNORECASE | re.DOTALL)
SEARCH_YEARS = 8  # how far ahead a next fire is looked for before the expression is called empty


class CronError(ValueError):
    """An expression that cannot be read; ``column`` is 0-based within the expression."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Cron:
    """A parsed expression: the allowed values of each field, and the day-of-month/week specials."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]  # 1..31
    months: frozenset[int]  # 1..12
    weekdays: frozenset[int]  # 0..6, Sunday = 0
    years: frozenset[int] | None  # None: any
    dom_any: bool  # '*' or '?' in day-of-month
    dow_any: bool
    last_day: bool = False  # L in day-of-month
    nearest_weekday: int | None = None  # nW in day-of-month
    nth_weekday: tuple[int, int] | None = None  # (weekday, n) from 'FRI#2'
    last_weekday: int | None = None  # 'FRIL' / '5L' in day-of-week

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime:
        """The first fire strictly after ``after`` (aware), as an aware UTC datetime."""
        after = after.astimezone(UTC)
        day = after.astimezone(tz).date()
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        for _ in range(366 * SEARCH_YEARS):
            if self.matches_day(day):
                for h in hours:
                    for m in minutes:
                        fire = datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
                        fire_utc = fire.astimezone(UTC)  # a skipped wall time lands an hour later
                        if fire_utc > after:
                            return fire_utc
            day += timedelta(days=1)
        raise CronError(f"'{self.text}' never fires in the next {SEARCH_YEARS} years")

    def fires_between(self, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
        """Every fire in ``(start, end]``."""
        out: list[datetime] = []
        at = start
        while True:
            try:
                at = self.next_after(at, tz)
            except CronError:  # no more fires (a year field in the past)
                return out
            if at > end:
                return out
            out.append(at)

    def matches_day(self, day: date) -> bool:
        if self.years is not None and day.year not in self.years:
            return False
        if day.month not in self.months:
            return False
        dom, dow = self._dom_matches(day), self._dow_matches(day)
        if self.dom_any:
            return dow
        if self.dow_any:
            return dom
        return dom or dow  # both restricted: either matches, as in Vixie cron

    def _dom_matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if self.last_day:
            return day.day == last
        if self.nearest_weekday is not None:
            return day == _nearest_weekday(day.year, day.month, self.nearest_weekday)
        return day.day in self.days

    def _dow_matches(self, day: date) -> bool:
        weekday = (day.weekday() + 1) % 7  # Sunday = 0
        if self.nth_weekday is not None:
            wanted, n = self.nth_weekday
            return weekday == wanted and (day.day - 1) // 7 + 1 == n
        if self.last_weekday is not None:
            last = calendar.monthrange(day.year, day.month)[1]
            return weekday == self.last_weekday and day.day + 7 > last
        return weekday in self.weekdays


def _nearest_weekday(year: int, month: int, dom: int) -> date:
    last = calendar.monthrange(year, month)[1]
    day = date(year, month, min(dom, last))
    if day.weekday() == 5:  # Saturday: Friday, unless that leaves the month
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    if day.weekday() == 6:
        return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)
    return day


def parse(text: str) -> Cron:
    """Read ``*/15 * * * *`` or ``cron(0 12 * * ? *)``; raise :class:`CronError` with a column."""
    match = AWS_FORM.fullmatch(text.strip())
    aws = match is not None
    body = match["body"] if match else text
    offset = text.find(body) if match else 0
    fields = [(m.group(), m.start() + offset) for m in re.finditer(r"\S+", body)]
    expected = 6 if aws else 5
    if len(fields) != expected:
        form = (
            "cron(min hour day-of-month month day-of-week year)"
            if aws
            else "min hour day-of-month month day-of-week"
        )
        raise CronError(f"expected {expected} fields ({form}), got {len(fields)}")
    (mi, mc), (hi, hc), (di, dc), (mo, moc), (wi, wc) = fields[:5]
    if aws and (di == "?") == (wi == "?"):
        raise CronError("AWS cron needs '?' in exactly one of day-of-month and day-of-week", dc)
    dom = _day_of_month(di, dc)
    dow = _day_of_week(wi, wc, aws)
    years = None
    if aws and fields[5][0] not in ("*", "?"):
        years = frozenset(_values(fields[5][0], fields[5][1], 1970, 2199, {}))
    return Cron(
        text=text,
        minutes=frozenset(_values(mi, mc, 0, 59, {})),
        hours=frozenset(_values(hi, hc, 0, 23, {})),
        months=frozenset(_values(mo, moc, 1, 12, MONTHS)),
        years=years,
        **dom,
        **dow,
    )


def _day_of_month(text: str, col: int) -> dict[str, object]:
    out: dict[str, object] = {"dom_any": text in ("*", "?"), "days": frozenset(range(1, 32))}
    if text == "L":
        out["last_day"] = True
    elif re.fullmatch(r"\d+W", text):
        day = int(text[:-1])
        if not 1 <= day <= 31:
            raise CronError(f"day {day} is out of range 1-31", col)
        out["nearest_weekday"] = day
    elif text not in ("*", "?"):
        out["days"] = frozenset(_values(text, col, 1, 31, {}))
    return out


def _day_of_week(text: str, col: int, aws: bool) -> dict[str, object]:
    """Unix numbers days 0-7 from Sunday (7 is Sunday too); AWS numbers them 1-7 from Sunday."""
    low, high, shift = (1, 7, 1) if aws else (0, 7, 0)
    out: dict[str, object] = {"dow_any": text in ("*", "?"), "weekdays": frozenset(range(7))}
    names = {k: v + shift for k, v in DAYS.items()}
    if text in ("*", "?"):
        return out
    special = re.fullmatch(r"(?P<day>[A-Za-z]+|\d)(?:#(?P<nth>\d)|(?P<last>L))", text)
    if special:
        day = _number(special["day"], col, low, high, names)
        if special["nth"] and not 1 <= int(special["nth"]) <= 5:
            raise CronError(f"'#{special['nth']}': a weekday occurs at most 5 times a month", col)
        key = "nth_weekday" if special["nth"] else "last_weekday"
        weekday = (day - shift) % 7
        out[key] = (weekday, int(special["nth"])) if special["nth"] else weekday
        return out
    out["weekdays"] = frozenset((v - shift) % 7 for v in _values(text, col, low, high, names))
    return out


def _values(text: str, col: int, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    pos = col
    for part in text.split(","):
        out |= _part(part, pos, low, high, names)
        pos += len(part) + 1
    return out


def _part(part: str, col: int, low: int, high: int, names: dict[str, int]) -> set[int]:
    base, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"'{part}': the step after '/' must be a positive number", col)
        step = int(step_text)
    if base in ("*", "?"):
        start, end = low, high
    elif "-" in base:
        a, _, b = base.partition("-")
        start, end = _number(a, col, low, high, names), _number(b, col, low, high, names)
        if start > end:
            raise CronError(f"'{base}': the range runs backwards", col)
    else:
        start = _number(base, col, low, high, names)
        end = high if slash else start
    return set(range(start, end + 1, step))


def _number(text: str, col: int, low: int, high: int, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        hint = f" (names: {', '.join(names)})" if names else ""
        raise CronError(f"'{text}' is not a number{hint}", col)
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{value} is out of range {low}-{high}", col)
    return value


def zone(name: str) -> ZoneInfo:
    """A named time zone; ``ValueError`` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}'") from None
