"""One exception type for problems the user can fix (bad input, bad config, bad download).

The CLI turns it into a single ``error: ...`` line and exit status 1, instead of a traceback.
"""


class UserError(Exception):
    """A problem with the user's input; the message names the file or key at fault."""
