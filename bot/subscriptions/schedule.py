"""Local times, time zones and the next delivery instant, correct across daylight-saving changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)
_TIME = re.compile(r"^(\d{1,2})(?::|h|\.)?(\d{2})?\s*(am|pm)?$", re.I)


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """City name -> IANA zone, from the zone names themselves ("Europe/Berlin" knows "berlin")."""
    cities: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            cities.setdefault(name.rsplit("/", 1)[1].replace("_", " ").lower(), name)
    cities.update({"new york city": "America/New_York", "nyc": "America/New_York", "san francisco": "America/Los_Angeles",
                   "sf": "America/Los_Angeles", "beijing": "Asia/Shanghai", "delhi": "Asia/Kolkata",
                   "mumbai": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata",
                   "seattle": "America/Los_Angeles", "boston": "America/New_York", "munich": "Europe/Berlin",
                   "kyiv": "Europe/Kyiv", "kiev": "Europe/Kyiv"})  # fmt: skip
    return cities


def parse_zone(text: str) -> str | None:
    """An IANA name, a UTC offset ("+05:45", "UTC-3") or a known city; returns a canonical name."""
    raw = " ".join(text.strip().split())
    if not raw or len(raw) > 64:
        return None
    if raw.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    if m := _OFFSET.match(raw):
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            return None
        return "UTC" if hours == minutes == 0 else f"UTC{sign}{hours:02d}:{minutes:02d}"
    key = raw.replace(" ", "_").lower()
    return _zones().get(key) or _cities().get(raw.lower())


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones() if "/" in z}


def zone(name: str) -> tzinfo:
    if name.startswith("UTC") and len(name) > 3:
        sign = -1 if name[3] == "-" else 1
        hours, minutes = int(name[4:6]), int(name[7:9])
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    return ZoneInfo(name)


def parse_clock(text: str) -> time | None:
    m = _TIME.match(text.strip())
    if not m:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of a local wall-clock time. With fold=0 a time skipped by a spring-forward
    change lands the length of the gap later (02:30 becomes 03:30), and a time repeated in autumn
    resolves to its first occurrence."""
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def next_run(after: datetime, at: time, zone_name: str, days: tuple[str, ...]) -> datetime:
    """The first delivery instant strictly after `after` (UTC) on one of `days` at local `at`."""
    tz = zone(zone_name)
    local_day = after.astimezone(tz).date()
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        if DAYS[day.weekday()] not in days:
            continue
        instant = local_instant(day, at, tz)
        if instant > after:
            return instant
    raise ValueError("no delivery day selected")


def local_date(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(zone(zone_name)).date()
