"""Calls the emulator's protected resource with only the standard library."""

from __future__ import annotations

import urllib.error
import urllib.request


def resource_status(base_url: str, token: str) -> int:
    """The HTTP status GET /api/resource answers for `Authorization: Bearer <token>`."""
    request = urllib.request.Request(
        base_url + "/api/resource", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
