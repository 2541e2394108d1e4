"""What the settings select: the question bank (with extra packs) and the grader.

Kept apart from the composition root so `mock-interviewer grade` starts without loading the chat
platforms, the database or the charts."""

from __future__ import annotations

from bot.config import Settings
from bot.grading.claims import ClaimGrader
from bot.grading.verdict import Grader
from questions.loader import SHIPPED_DIR, Bank, load_bank_cached


def load_questions(settings: Settings) -> Bank:
    return load_bank_cached([SHIPPED_DIR, *settings.extra_bank_dirs], settings.data_dir / "cache")


def make_grader(settings: Settings) -> Grader:
    """The LLM judge when `LLM_*` is configured, else the offline claim grader."""
    if not settings.llm_base_url or not settings.llm_model:
        return ClaimGrader()
    from bot.grading.llm import LlmGrader

    return LlmGrader(settings.llm_base_url, settings.llm_model, settings.llm_api_key, timeout=settings.llm_timeout)
