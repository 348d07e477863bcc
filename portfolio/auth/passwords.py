"""The password policy, after NIST SP 800-63B (5.1.1.2): length, and never a password that is
common or easily guessed; no rules about kinds of characters, no forced expiry.

One home for every place a password is chosen: the account pages, the set-up and reset links,
``flask users create`` and ``flask users password``.

The list of common passwords is the 30,000 most common from leaked password sets, as shipped
by zxcvbn (MIT), which also finds the guessable shapes a list cannot hold: a keyboard row, a
repeated or counted sequence, a common word with a year, the person's own name or email.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from portfolio.errors import ServiceError

MIN_LENGTH = 12
#: Long passphrases are welcome (NIST: at least 64); past this it is a paste gone wrong.
MAX_LENGTH = 200
#: zxcvbn's score (0-4) below which a password counts as guessable: score 3 is at least
#: 10^8 guesses, beyond an online attack throttled as the login form is.
MIN_SCORE = 3
#: zxcvbn's time grows with length; what it is shown of a long passphrase is plenty to judge.
_JUDGED = 64

HINT = (
    f"At least {MIN_LENGTH} characters. A few unrelated words make a good one; any letters, "
    "numbers, spaces or symbols are fine."
)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def normalise(password: str) -> str:
    """Unicode passwords compared and hashed in one form (NFKC), as 800-63B asks."""
    return unicodedata.normalize("NFKC", password)


def problem(password: str, *, known: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused, in words for the person choosing it, or None.

    ``known``: what is known of the person (name, email, student ID), which the password must
    not be built from.
    """
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (this one has {len(password)})."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        return "That is one of the most common passwords, which are tried first: choose another."
    from zxcvbn import zxcvbn

    inputs = [part for value in known if value for part in _parts(value)]
    judged = zxcvbn(password[:_JUDGED], user_inputs=[*inputs, "portfolio"])
    if judged["score"] < MIN_SCORE:
        warning = judged["feedback"].get("warning") or "It would be easy to guess."
        return f"{warning.rstrip('.')}. Choose something less predictable, such as a few words."
    return None


def _parts(value: str) -> list[str]:
    """A name or email as the pieces someone would build a password from."""
    value = value.lower()
    local = value.split("@", 1)[0]
    pieces = [value, local, *local.replace(".", " ").replace("_", " ").split()]
    return [p for p in pieces if len(p) >= 3]


def check(password: str, *, known: Iterable[str] = (), field: str = "password") -> str:
    """``password`` in the form it is kept, or refused with the reason."""
    reason = problem(password, known=known)
    if reason is not None:
        raise ServiceError(reason, field)
    return normalise(password)
