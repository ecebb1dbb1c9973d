"""The flags a local-evaluation client holds: a project snapshot, compiled once per revision."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import VexilClientError
from .evaluation import (
    CompiledRevision,
    CompiledSegment,
    EvaluationResult,
    InvalidRevision,
    compile_flag,
    compile_segment,
)
from .service import type_mismatch_message

FLAG_TYPES = ("feature", "data", "number", "json", "segment")
VALUE_FLAG_TYPES = ("feature", "data", "number", "json")


@dataclass(frozen=True)
class FlagEntry:
    """A snapshot flag (or segment) checked and compiled when it arrived."""

    flag_type: str
    name: str
    wtime: str
    revision: Mapping[str, Any]
    #: ready to evaluate; None when archived, a segment, or a revision that does not validate
    compiled: CompiledRevision | None
    #: a segment's membership test; None for flags and for a segment that does not validate
    segment: CompiledSegment | None
    #: why the flag answers the default (archived, or a revision that does not validate)
    problem: str | None


def compile_entry(flag: Mapping[str, Any]) -> FlagEntry:
    flag_type, name, wtime, revision = flag["flagType"], flag["name"], flag["wtime"], flag["revision"]
    try:
        if flag_type == "segment":
            return FlagEntry(flag_type, name, wtime, revision, None, compile_segment(revision, name), None)
        compiled = compile_flag(revision, flag_type, name)
        if compiled is None:
            return FlagEntry(
                flag_type, name, wtime, revision, None, None, f"{flag_type} flag {name} is archived: it answers the default"
            )
        return FlagEntry(flag_type, name, wtime, revision, compiled, None, None)
    except InvalidRevision as error:
        what = f"the newest revision of {flag_type} {name} ({wtime}) does not validate: {error}"
        problem = (
            f"{what}; conditions naming segment {name} do not hold until a revision fixes it"
            if flag_type == "segment"
            else f"{what}; it answers the default until a revision fixes it"
        )
        return FlagEntry(flag_type, name, wtime, revision, None, None, problem)


def snapshot_version(entries: list[FlagEntry]) -> str:
    """The protocol's version of a set of flags: sha256 over type, name and wtime in (type, name) order, 32 hex digits."""
    text = "".join(f"{e.flag_type}\n{e.name}\n{e.wtime}\n" for e in sorted(entries, key=lambda e: (e.flag_type, e.name)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def parse_snapshot(value: Any, project: str) -> list[Mapping[str, Any]]:
    """The flags of a snapshot (or raises ValueError naming what is wrong)."""
    if not isinstance(value, dict) or not isinstance(value.get("flags"), list):
        raise ValueError("a snapshot is {project, version, flags: [...]}")
    if value.get("project") != project:
        raise ValueError(f"the snapshot is for project {value.get('project')!r}, not {project}")
    for index, flag in enumerate(value["flags"]):
        check_flag(flag, f"flags[{index}]")
    return value["flags"]


def check_flag(flag: Any, where: str) -> None:
    if not isinstance(flag, dict):
        raise ValueError(f"{where} must be {{name, flagType, wtime, revision}}")
    if flag.get("flagType") not in FLAG_TYPES:
        raise ValueError(f"{where}.flagType must be one of {', '.join(FLAG_TYPES)}")
    if not isinstance(flag.get("name"), str) or not isinstance(flag.get("wtime"), str):
        raise ValueError(f"{where}.name and .wtime must be strings")
    if not isinstance(flag.get("revision"), dict):
        raise ValueError(f"{where}.revision must be an object")


class LocalFlags:
    """The snapshot held: replaced whole by a snapshot, one entry at a time by a change.

    Gets read ``self._maps`` without the lock: a snapshot or change builds new maps and
    swaps them in with one assignment, so a get sees either the old flags or the new.
    """

    def __init__(self, project: str) -> None:
        self.project = project
        self._maps: dict[str, dict[str, FlagEntry]] | None = None
        self._lock = threading.Lock()
        self.version: str | None = None

    def reset_lock(self) -> None:
        """A new lock, after fork(): another thread of the parent may have held the old one."""
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._maps is not None

    def apply_snapshot(self, flags: list[Mapping[str, Any]]) -> list[str]:
        """Replaces the flags held; the names of the flags whose answers may have changed."""
        with self._lock:
            old = self._maps or {t: {} for t in FLAG_TYPES}
            maps: dict[str, dict[str, FlagEntry]] = {t: {} for t in FLAG_TYPES}
            changed: set[str] = set()
            for flag in flags:
                previous = old[flag["flagType"]].get(flag["name"])
                # A revision never changes once written: an entry with the same time is the same flag.
                entry = previous if previous is not None and previous.wtime == flag["wtime"] else compile_entry(flag)
                maps[entry.flag_type][entry.name] = entry
                if entry is not previous:
                    changed.add(entry.name)
            for flag_type in FLAG_TYPES:
                changed.update(name for name in old[flag_type] if name not in maps[flag_type])
            self._install(maps)
            return sorted(changed)

    def apply_change(self, flag: Mapping[str, Any], version: str) -> bool:
        """Applies a change event; False when the result's version is not the event's (a change was missed)."""
        with self._lock:
            maps = {t: dict(m) for t, m in (self._maps or {t: {} for t in FLAG_TYPES}).items()}
            previous = maps[flag["flagType"]].get(flag["name"])
            if previous is None or flag["wtime"] > previous.wtime:
                maps[flag["flagType"]][flag["name"]] = compile_entry(flag)
            self._install(maps)
            return self.version == version

    def _install(self, maps: dict[str, dict[str, FlagEntry]]) -> None:
        self.version = snapshot_version([e for m in maps.values() for e in m.values()])
        self._maps = maps

    def snapshot(self) -> dict[str, Any] | None:
        """The flags held in the protocol's shape (what a bootstrap file holds)."""
        maps = self._maps
        if maps is None:
            return None
        entries = sorted((e for m in maps.values() for e in m.values()), key=lambda e: (e.flag_type, e.name))
        flags = [{"name": e.name, "flagType": e.flag_type, "wtime": e.wtime, "revision": e.revision} for e in entries]
        return {"project": self.project, "version": self.version, "flags": flags}

    def flag_names(self, flag_type: str | None = None) -> list[str]:
        maps = self._maps or {}
        types = VALUE_FLAG_TYPES if flag_type is None else (flag_type,)
        return sorted({name for t in types for name in maps.get(t, {})})

    def evaluate(
        self, flag_type: str, flag_name: str, context: Mapping[str, Any]
    ) -> tuple[FlagEntry, EvaluationResult] | VexilClientError:
        """The entry and its result for a context, or the problem that stops it (TargetingKeyMissing propagates)."""
        maps = self._maps
        if maps is None:
            return VexilClientError(
                errors.NOT_READY,
                f"no flag data for project {self.project} yet: flag {flag_name} answers its default",
                operation="evaluate",
                flag_name=flag_name,
            )
        entry = maps[flag_type].get(flag_name)
        if entry is not None and entry.compiled is not None:
            return entry, entry.compiled.evaluate(context, _SegmentView(maps["segment"]))
        if entry is not None:
            code = errors.FLAG_NOT_FOUND if entry.revision.get("Archived") is True else errors.PARSE_ERROR
            return VexilClientError(code, entry.problem or "", operation="evaluate", flag_name=flag_name)
        other = next((t for t in VALUE_FLAG_TYPES if t != flag_type and flag_name in maps[t]), None)
        if other is not None:
            return VexilClientError(
                errors.TYPE_MISMATCH,
                type_mismatch_message(flag_name, flag_type, other),
                operation="evaluate",
                flag_name=flag_name,
            )
        message = (
            f"{flag_name} in project {self.project} is a segment, not a flag: segments are used by flags' rules, not evaluated"
            if flag_name in maps["segment"]
            else f"no {flag_type} flag {flag_name} with a revision in project {self.project}"
        )
        return VexilClientError(errors.FLAG_NOT_FOUND, message, operation="evaluate", flag_name=flag_name)


class _SegmentView(Mapping[str, "CompiledSegment | None"]):
    """The segments as rules look them up: a name not held is missing; one that does not validate is None."""

    def __init__(self, entries: dict[str, FlagEntry]) -> None:
        self._entries = entries

    def __getitem__(self, name: str) -> CompiledSegment | None:
        return self._entries[name].segment

    def get(self, name: str, default: Any = None) -> Any:
        entry = self._entries.get(name)
        return default if entry is None else entry.segment

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
