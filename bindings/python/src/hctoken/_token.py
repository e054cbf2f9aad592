"""`hctoken.Token`: an issued token and what the server said about it (from Client.get)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    """An access token as Client.get handed it out.

    `value` is the bare token (no "Bearer "); `expires_in` how many seconds it stays valid,
    counted from when Client.get returned (it does not count down); `scope` the scope the server
    granted ("" if it sent none); `token_type` as the server sent it (e.g. "bearer", "" if none).
    The value is left out of repr() so that logging a Token never shows it.
    """

    value: str = field(repr=False)
    expires_in: float
    scope: str
    token_type: str
