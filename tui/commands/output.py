"""Writing a command's output so that no console code page can crash it.

With output redirected, Windows Python writes in the ANSI code page (cp1252, cp437 …): a
Cyrillic host name in a summary would stop `check` with UnicodeEncodeError, a traceback and
nothing printed. Text and Markdown are written with a replacement character where the stream's
encoding has none; JSON is ASCII-escaped at its source; files are always UTF-8.
"""

from __future__ import annotations

import io
from typing import TextIO


def tolerate_code_pages(*streams: TextIO) -> None:
    """From now on a character the stream cannot encode becomes `?`, never an exception."""
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="replace")


def write(stream: TextIO, text: str) -> None:
    """Write without dying on a code page (any stream, not only the process's own) or on a
    closed pipe (`| head`)."""
    try:
        stream.write(text)
        stream.flush()
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding, "replace"))
        stream.flush()
    except BrokenPipeError:
        pass
