"""Role and seniority presets: which sections a loop draws from, at what level, and its parts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    role: str  # bank role tag: mle, ds, research
    seniority: str
    sections: tuple[str, ...]  # where the deep dive draws from, most relevant first
    difficulty: str
    with_design: bool

    def parts(self, with_design: bool | None = None) -> list[tuple[str, str, int]]:
        """(label, kind, questions) for each part of the loop."""
        design = self.with_design if with_design is None else with_design
        parts = [("Phone screen", "technical", 2), ("Technical deep dive", "technical", 3)]
        if design:
            parts.append(("System design", "design", 1))
        parts.append(("Behavioral", "behavioral", 2))
        return parts


_ROLES = {
    "mle": ("ML engineer", "mle", ("6.1", "6.2", "6.3", "7.2", "7.3", "8.3", "9.1", "9.2")),
    "ds": ("Data scientist", "ds", ("5.2.1", "5.2.2", "7.1", "7.2", "7.3", "8.1")),
    "re": ("Research engineer", "research", ("6.2", "8.2.1", "8.2.2", "8.2.4", "8.3", "9.1")),
    "rs": ("Research scientist", "research", ("5.1.2", "5.1.4", "5.2.1", "8.2.4", "8.3", "9.1")),
}

PRESETS: dict[str, Preset] = {}
for _key, (_label, _role, _sections) in _ROLES.items():
    for _level in ("junior", "senior"):
        _preset = Preset(
            key=f"{_key}-{_level[0]}",
            label=f"{_label}, {_level}",
            role=_role,
            seniority=_level,
            sections=_sections,
            difficulty="medium" if _level == "junior" else "hard",
            with_design=_level == "senior",
        )
        PRESETS[_preset.key] = _preset
