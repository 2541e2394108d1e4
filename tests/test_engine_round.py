"""The on-demand mock round, driven through the engine with plain data (no storage, no platform)."""

from __future__ import annotations

from bot.answering.records import AnswerRecord, DisputeReasonRecord, DisputeRecord, RatingRecord
from bot.core.events import TextIn
from bot.core.ports import Profile
from bot.engine import Engine
from bot.rounds.records import RoundRecord
from tests.conftest import Conversation, FakeClock, cmd, last_buttons, text

GOOD = {
    "fx-reservoir": "I would use reservoir sampling: keep the first k items, then replace a random slot with "
    "probability k over i, so it runs in a single pass with O(k) memory.",
    "fx-l1-vs-l2": "L1 pushes weak weights to exactly zero, which gives a sparse model and acts as feature selection, "
    "while L2 shrinks weights smoothly and is more stable with correlated features.",
    "fx-bias-variance": "The big gap means high variance: the model is overfitting because it memorizes the training data. "
    "I would add regularization such as dropout, use a simpler model, and collect more training data with augmentation.",
    "fx-softmax-stable": "Large logits overflow because exp of large numbers becomes infinity, so I subtract the max logit "
    "before exponentiating, which leaves softmax unchanged.",
    "fx-bayes-test": "By Bayes with the 1% prior, the posterior is about 17 percent, because false positives from the "
    "healthy majority dominate the positives.",
}


def current_qid(conv: Conversation) -> str:
    assert conv.state.round is not None
    qid = conv.state.round.current_id
    assert qid is not None
    return qid


async def answer_and_finish(conv: Conversation, answer: str) -> None:
    await conv.send(text(answer))
    await conv.send(cmd("done"))
    if conv.state.round is not None and conv.state.round.phase == "follow_up":
        await conv.press("Skip follow-up")
    if conv.state.round is not None and conv.state.round.phase == "rate":
        await conv.press("Good")


async def test_setup_by_buttons_then_three_questions_and_scorecard(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock"))
    assert "What kind of round" in conv.text
    await conv.press("Technical")
    await conv.press("Medium")
    await conv.press("3")
    assert "I'm your interviewer" in conv.replies[0].text
    assert "Question 1/3" in conv.text
    seen = []
    for n in range(3):
        qid = current_qid(conv)
        seen.append(qid)
        assert f"Question {n + 1}/3" in conv.text
        await answer_and_finish(conv, GOOD[qid])
    assert len(set(seen)) == 3
    assert conv.state.mode == "idle" and conv.state.round is None
    assert "Scorecard" in conv.text and "By topic" in conv.text
    finished = [r for r in conv.records if isinstance(r, RoundRecord) and r.status == "finished"]
    assert len(finished) == 1 and finished[0].scorecard is not None
    card = finished[0].scorecard
    assert card["questions"] == 3 and card["overall"] >= 3.0
    assert set(card["topics"]) <= {"7.1", "6.1", "6.2", "5.2.1"} and len(card["topics"]) >= 2
    assert sum(isinstance(r, RatingRecord) for r in conv.records) == 3


async def test_answer_spanning_messages_is_graded_as_one(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "easy", "3"))
    qid = current_qid(conv)
    words = GOOD[qid].split()
    half = len(words) // 2
    await conv.send(text(" ".join(words[:half])))
    assert "Noted" in conv.text
    await conv.send(text(" ".join(words[half:])))
    await conv.send(cmd("done"))
    answers = [r for r in conv.records if isinstance(r, AnswerRecord)]
    assert answers[-1].answer_text == "\n".join([" ".join(words[:half]), " ".join(words[half:])])
    assert answers[-1].result.score >= 3.0


async def test_hint_ladder_stops_and_costs_score(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "easy", "3"))
    assert current_qid(conv) == "fx-l1-vs-l2"  # the only easy technical question in the fixture bank
    await conv.send(cmd("hint"))
    assert "Hint 1/2" in conv.text
    await conv.send(cmd("hint"))
    assert "Hint 2/2" in conv.text
    await conv.send(cmd("hint"))
    assert "last hint" in conv.text
    await conv.send(text(GOOD["fx-l1-vs-l2"]))
    await conv.send(cmd("done"))
    result = conv.state.round.results[-1] if conv.state.round else None
    assert result is not None
    assert result.hints_used == 2
    assert result.score == round(result.raw_score - 0.6, 2)


async def test_skip_repeat_time_and_help_keep_the_round(engine: Engine, clock: FakeClock) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "medium", "3"))
    first = current_qid(conv)
    await conv.send(text("partial thought"))
    await conv.send(cmd("help"))
    assert "/hint" in conv.text and conv.state.round is not None
    assert conv.state.round.answer == ["partial thought"]
    await conv.send(cmd("repeat"))
    assert "Question 1/3" in conv.text and "Your answer so far: 2 words" in conv.text
    clock.advance(seconds=75)
    await conv.send(cmd("time"))
    assert "1 min 15 s on this question" in conv.text
    await conv.send(cmd("skip"))
    assert "Skipped" in conv.text and "Question 2/3" in conv.text
    assert current_qid(conv) != first
    assert conv.state.round.results[0].skipped


async def test_pause_and_resume_keeps_answers(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "medium", "3"))
    await answer_and_finish(conv, GOOD[current_qid(conv)])
    second = current_qid(conv)
    await conv.send(cmd("pause"))
    assert conv.state.paused is not None and "Paused at question 2/3" in conv.text
    await conv.send(text("hello?"))
    assert "/mock" in conv.text
    await conv.send(cmd("mock"))
    assert "paused" in conv.text
    await conv.press("Resume")
    assert conv.state.mode == "round" and current_qid(conv) == second
    assert "Question 2/3" in conv.text
    assert len(conv.state.round.results) == 1  # type: ignore[union-attr]


async def test_new_round_discards_paused_one(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "medium", "3"))
    await conv.send(cmd("pause"))
    await conv.send(cmd("mock"))
    await conv.press("New round")
    assert conv.state.paused is None and "What kind of round" in conv.text
    assert any(isinstance(r, RoundRecord) and r.status == "stopped" for r in conv.records)


async def test_the_same_command_after_pause_offers_to_resume(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "behavioral", "easy", "3"))
    first = current_qid(conv)
    await conv.send(cmd("pause"))
    await conv.send(cmd("mock", "behavioral", "easy", "3"))
    assert "paused behavioral round" in conv.text and conv.state.paused is not None
    await conv.press("Resume")
    assert current_qid(conv) == first
    await conv.send(cmd("pause"))
    await conv.send(cmd("mock", "technical", "hard", "3"))
    await conv.press("New round")  # what the command asked for starts, the paused one is stopped
    assert conv.state.round is not None and conv.state.round.track == "technical"
    assert conv.state.round.difficulty == "hard"


async def test_stop_gives_partial_scorecard(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "medium", "5"))
    await answer_and_finish(conv, GOOD[current_qid(conv)])
    await conv.send(cmd("stop"))
    assert "stopped after 1 answer" in conv.text
    assert conv.state.mode == "idle"


async def test_stop_before_any_answer_has_no_scorecard(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "medium", "3"))
    await conv.send(cmd("stop"))
    assert "no scorecard" in conv.text


async def test_follow_up_can_recover_missed_points(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "easy", "3"))
    await conv.send(
        text("L1 gives exact zeros, so the model is sparse and it selects features, because weak weights vanish.")
    )
    await conv.send(cmd("done"))
    round_ = conv.state.round
    assert round_ is not None and round_.phase == "follow_up"
    before = round_.results[-1].score
    assert "correlated" in conv.text  # the bank's follow-up is asked
    await conv.send(
        text("With correlated features L2 shrinks weights smoothly, which is more stable, so I'd use weight decay.")
    )
    await conv.send(cmd("done"))
    after = conv.state.round.results[-1]  # type: ignore[union-attr]
    assert after.score > before
    assert "That also covered L2 shrinks all weights smoothly" in conv.text and "Reference answer" in conv.text


async def test_self_rating_and_dispute_are_recorded(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "hard", "3"))
    assert current_qid(conv) == "fx-bayes-test"
    await conv.send(text(GOOD["fx-bayes-test"]))
    await conv.send(cmd("done"))
    await conv.press("Skip follow-up")
    await conv.press("This grade is wrong")
    await conv.press("The score as a whole")
    assert "Recorded" in conv.text and conv.state.round is not None and conv.state.round.phase == "rate"
    await conv.press("Hard")
    assert [type(r) for r in conv.records if isinstance(r, DisputeRecord | RatingRecord)] == [
        DisputeRecord,
        RatingRecord,
    ]
    assert "Question 2/3" in conv.text


async def test_a_dispute_names_the_point_and_takes_an_optional_reason(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "hard", "3"))
    await conv.send(text("I would apply Bayes' rule with the 1% prior."))
    await conv.send(cmd("done"))
    await conv.press("Skip follow-up")
    rnd = conv.state.round
    assert rnd is not None
    doubtful = [p for p in rnd.graded if p.status != "confirmed"]
    assert doubtful, "a one-line answer should leave a point unconfirmed"
    await conv.press("This grade is wrong")
    label = next(b for b in last_buttons(conv.replies) if b.startswith("I did say:"))
    await conv.press(label)
    assert "your score stays as it is" in conv.text.lower()
    await conv.send(text("I said the healthy majority produces most positives."))
    assert "added your reason" in conv.text
    await conv.press("Good")
    disputes = [r for r in conv.records if isinstance(r, DisputeRecord)]
    reasons = [r for r in conv.records if isinstance(r, DisputeReasonRecord)]
    assert [(d.point, d.status) for d in disputes] == [(doubtful[0].point, doubtful[0].status)]
    assert [r.reason for r in reasons] == ["I said the healthy majority produces most positives."]
    assert conv.state.round is not None and not conv.state.round.disputing


async def test_a_message_after_rating_without_a_dispute_is_not_a_reason(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "hard", "3"))
    await conv.send(text(GOOD["fx-bayes-test"]))
    await conv.send(cmd("done"))
    await conv.press("Skip follow-up")
    await conv.send(text("hello?"))
    assert "how well did you know" in conv.text.lower()
    assert not [r for r in conv.records if isinstance(r, DisputeReasonRecord)]


async def test_behavioral_answer_gets_structure_feedback(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "behavioral", "easy", "3"))
    await conv.send(text("We talked and it was fine."))
    await conv.send(cmd("done"))
    assert "Structure:" in conv.text and "STAR" in conv.text


async def test_mixed_round_alternates_kinds(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "mixed", "medium", "3"))
    assert conv.state.round is not None
    assert [s.kind for s in conv.state.round.plan] == ["technical", "technical", "behavioral"]


async def test_match_my_level_starts_from_history_and_adapts(engine: Engine) -> None:
    strong = Profile(user_id=1, display_name="Ada", recent_scores={"technical": 3.5})
    conv = Conversation(engine, strong)
    await conv.send(cmd("mock", "technical", "match", "3"))
    assert conv.state.round is not None and conv.state.round.level == "hard"
    assert current_qid(conv) == "fx-bayes-test"
    await conv.send(cmd("skip"))
    assert conv.state.round.level == "medium"  # a skipped (zero) answer steps down


async def test_unseen_questions_are_preferred(engine: Engine) -> None:
    profile = Profile(user_id=1, display_name="Ada", seen=frozenset({"fx-bias-variance"}))
    conv = Conversation(engine, profile)
    await conv.send(cmd("mock", "technical", "medium", "3"))
    assert current_qid(conv) == "fx-softmax-stable"


async def test_a_form_submits_the_whole_answer_and_a_stale_form_keeps_the_text(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "easy", "3"))
    shown = conv.replies[-1]
    assert shown.answer_choice is not None and shown.answer_choice == last_buttons(conv.replies)["Done"]
    answer = "L1 gives exact zeros because of its corner at zero, so it selects features; L2 only shrinks."
    await conv.send(TextIn(answer, submit=shown.answer_choice))
    assert "Score:" in conv.text and conv.state.round is not None and conv.state.round.results
    # The same form again, now that the question has moved on: not graded twice, and the text comes back.
    await conv.send(TextIn("a second go at it", submit=shown.answer_choice))
    assert "moved on" in conv.text and "a second go at it" in conv.text
    assert len(conv.state.round.results) == 1
    await conv.send(TextIn("forged", submit="rt:good:1"))
    assert "don't recognise that form" in conv.text
