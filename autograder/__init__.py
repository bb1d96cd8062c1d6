"""Instructor tools: release generation, hidden checks, reference outputs, grading."""
