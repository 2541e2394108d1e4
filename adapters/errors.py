"""What a platform adapter's start-up can report, in platform-neutral terms."""

from __future__ import annotations


class PlatformUnreachable(Exception):
    """The platform could not be reached (network, DNS, 5xx, timeout): worth trying again later."""
