"""An interviewer who listens: follow-ups aimed at the gaps and graded on their own rubric,
clarifying questions in design rounds, probes after a stage, cards from every rating, one coaching card."""

from __future__ import annotations

from bot.answering.records import AnswerRecord, CardRecord
from bot.engine import Engine
from tests.conftest import Conversation, cmd, text

L1_ONLY = "L1 gives exact zeros, so the model is sparse and it selects features, because weak weights vanish."


async def start_l1(conv: Conversation) -> None:
    await conv.send(cmd("mock", "technical", "easy", "3"))
    assert conv.state.round is not None and conv.state.round.current_id == "fx-l1-vs-l2"


async def test_the_follow_up_aims_at_the_missed_point_and_is_graded_on_its_own_rubric(engine: Engine) -> None:
    conv = Conversation(engine)
    await start_l1(conv)
    await conv.send(text(L1_ONLY))
    await conv.send(cmd("done"))
    rnd = conv.state.round
    assert rnd is not None and rnd.phase == "follow_up" and rnd.follow_up_index == 0
    assert "left out one of the main points" in conv.text  # says why it asks
    assert "What happens with L1 when two features are almost perfectly correlated?" in conv.text
    await conv.send(text("The lasso keeps one of the two correlated features and drops the other, fairly arbitrarily."))
    await conv.send(cmd("done"))
    assert "Follow-up: 4.0/4" in conv.text and "A strong follow-up answer:" in conv.text
    stored = [r for r in conv.records if isinstance(r, AnswerRecord) and r.follow_up]
    assert len(stored) == 1 and stored[0].verdict["own"]["score"] == 4.0
    assert "Reference answer" in conv.text and conv.state.round is not None and conv.state.round.phase == "rate"


async def test_a_full_answer_gets_a_deeper_follow_up_or_none(engine: Engine) -> None:
    conv = Conversation(engine)
    await start_l1(conv)
    await conv.send(
        text(
            "L1 pushes weak weights to exactly zero, giving sparse models and feature selection; "
            "L2 shrinks all weights smoothly and is more stable with correlated features."
        )
    )
    await conv.send(cmd("done"))
    assert "left out" not in conv.text


async def test_i_dont_know_to_a_follow_up_gets_a_short_lesson_not_another_question(engine: Engine) -> None:
    conv = Conversation(engine)
    await start_l1(conv)
    await conv.send(text(L1_ONLY))
    await conv.send(cmd("done"))
    await conv.send(text("I don't know"))
    await conv.send(cmd("done"))
    assert "That's fine" in conv.text and "In short:" in conv.text
    assert conv.state.round is not None and conv.state.round.phase == "rate"
    assert "Follow-up on" not in conv.text


async def test_design_round_answers_clarifying_questions_from_the_fact_sheet(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "design", "medium"))
    rnd = conv.state.round
    assert rnd is not None and rnd.current_id == "fx-sd-spam" and "Ask me anything" in conv.text
    await conv.send(text("How many users do we have?"))
    assert "50 million daily active users" in conv.text
    await conv.send(cmd("ask", "what", "labels", "do", "we", "have"))
    assert "200,000 messages a day" in conv.text
    await conv.send(text("Is the team's favourite colour blue?"))
    assert "for you to assume" in conv.text
    assert conv.state.round is not None and conv.state.round.answer == []  # questions are not the answer


async def test_a_stage_answer_is_probed_on_what_it_missed_and_a_skipped_stage_too(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "design", "medium"))
    await conv.send(text("I'd set a latency budget of 20 ms per message and size for messages per second."))
    await conv.send(cmd("done"))
    rnd = conv.state.round
    assert rnd is not None and rnd.phase == "follow_up" and rnd.stage == 0
    assert "What does a false positive cost here?" in conv.text
    await conv.send(text("Blocking real messages is far worse than missing a spam, so I'd favour precision."))
    await conv.send(cmd("done"))
    assert "Follow-up: 4.0/4" in conv.text and "Stage 2/4" in conv.text
    await conv.press("Skip")
    rnd = conv.state.round
    assert rnd is not None and rnd.phase == "follow_up" and rnd.stage == 1
    assert "Skipping data pipeline" in conv.text and "How do you get labels?" in conv.text


async def test_every_rating_and_every_skip_moves_a_review_card(engine: Engine) -> None:
    conv = Conversation(engine)
    await start_l1(conv)
    await conv.send(text(L1_ONLY))
    await conv.send(cmd("done"))
    await conv.press("Skip follow-up")
    await conv.press("Good")
    assert "You had the key idea there: l1 drives some weights exactly to zero" in conv.text  # acknowledged
    await conv.press("Skip")  # the second question, skipped: it counts as "again"
    cards = [r.card for r in conv.records if isinstance(r, CardRecord)]
    assert len(cards) == 2 and cards[0].question_id == "fx-l1-vs-l2"
    assert cards[1].due < cards[0].due  # "again" brings it back sooner than "good"


async def test_the_coaching_card_is_shown_in_full_once(engine: Engine) -> None:
    conv = Conversation(engine)
    for n in range(2):
        await conv.send(cmd("mock", "behavioral", "easy", "3"))
        await conv.send(text("I explained the model with an example and checked they understood; it went well."))
        await conv.send(cmd("done"))
        await conv.send(cmd("stop"))
        assert "Any questions for me?" in conv.text
        full = "Ask about the work itself" in conv.text
        assert full == (n == 0), conv.text
