"""Exercises checked by running the candidate's answer: SQL on SQLite fixtures, Python in a sandbox.

Everything here is independent of the dialogue engine: a check takes a bank question and an
answer and returns an `ExerciseResult`; `scoring` turns that and an explanation grade into a score.
"""
