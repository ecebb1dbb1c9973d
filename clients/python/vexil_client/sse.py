"""A server-sent events parser (the WHATWG event-stream format), fed one line at a time.

Hand-written: the standard library has none, and the format is a few line rules. Lines
end in LF or CRLF (what Vexil and proxies send); a lone CR as line end is not split.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event: str
    data: str
    id: str | None


class EventParser:
    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed_line(self, line: str) -> Event | None:
        """One line (its line end removed or not); an event when a blank line ends one."""
        line = line.rstrip("\r\n") if line.endswith("\n") else line.rstrip("\r")
        if line == "":
            if not self._data:
                self._event = ""
                return None
            event = Event(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None  # a comment: the keep-alive
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._id = value
        return None
