"""One exception type for problems the user can fix (bad input, bad config, bad download).

The CLI turns it into a single ``error: ...`` line and exit status 1, instead of a traceback. The line stays one
line whatever names it holds: a line break, a tab or another control character in a file or class name is
shown escaped (``\\n``), as ``one_line`` shows it in warnings too.
"""

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):  # control characters, line and paragraph separators
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return char


def one_line(text: object) -> str:
    """``text`` with every line break and control character escaped, so a message holding it stays one line."""
    return "".join(_escaped(char) for char in str(text))


class UserError(Exception):
    """A problem with the user's input; the message names the file or key at fault (escaped: one line)."""

    def __str__(self) -> str:
        return one_line(super().__str__())


def user_message(exc: UserError) -> str:
    """The one line of ``exc``. A UserError raised in a data-loader process comes back wrapped in torch's report
    of that process's traceback (several lines); the user's own line is its last, after the exception's name."""
    raw = str(exc.args[0]) if exc.args else ""
    if raw.startswith("Caught UserError in DataLoader worker") and "Original Traceback" in raw:
        return one_line(raw.strip().splitlines()[-1].split("UserError: ", 1)[-1])
    return str(exc)
