"""Error types shared across the app."""


class InputError(ValueError):
    """Bad user input; the message is written for the user and names the problem and the limit."""
