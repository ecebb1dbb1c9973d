"""Vexil's evaluation rules in Python, written from docs/design.md and docs/flag-model.md.

Used by the clients' local-evaluation mode: a snapshot's revisions are checked and
compiled once (``compile_flag``, ``compile_segment``), then each get evaluates the
compiled revision for a context.
"""

from .compiled import (
    CompiledRevision,
    CompiledSegment,
    EvaluationResult,
    InvalidRevision,
    TargetingKeyMissing,
    compile_flag,
    compile_segment,
)

__all__ = [
    "CompiledRevision",
    "CompiledSegment",
    "EvaluationResult",
    "InvalidRevision",
    "TargetingKeyMissing",
    "compile_flag",
    "compile_segment",
]
