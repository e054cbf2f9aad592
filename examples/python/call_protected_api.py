"""Calls a protected API with tokens from hctoken, through a requests.Session.

Try it offline against the local token server of this repository:

    cargo build
    target/debug/hctoken serve            # prints its base URL, e.g. http://127.0.0.1:40123
    pip install "./bindings/python[requests]"
    HCTOKEN_CLIENT_SECRET=test-secret python examples/python/call_protected_api.py \\
        --token-url http://127.0.0.1:40123/oauth2/token --client-id test-client \\
        --resource http://127.0.0.1:40123/api/resource

Against a vendor, pick its profile (e.g. --profile optum-v3) and its URLs. The secret is read from
the HCTOKEN_CLIENT_SECRET environment variable so that it does not show in the process list.
"""

from __future__ import annotations

import argparse
import os
import sys

import requests

import hctoken
import hctoken.requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="generic", help="hctoken profile (default: generic)")
    parser.add_argument("--token-url", required=True, help="the token endpoint")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--resource", required=True, help="a URL that wants a bearer token")
    parser.add_argument("--calls", type=int, default=3, help="how many times to call it")
    args = parser.parse_args()

    secret = os.environ.get("HCTOKEN_CLIENT_SECRET")
    if not secret:
        parser.error("set HCTOKEN_CLIENT_SECRET to the client secret")

    try:
        with (
            hctoken.Client(
                profile=args.profile,
                token_url=args.token_url,
                client_id=args.client_id,
                client_secret=secret,
            ) as client,
            requests.Session() as session,
        ):
            # Every request gets "Authorization: Bearer <token>"; the token comes from the
            # library's cache, and a 401 answer renews it and retries once.
            session.auth = hctoken.requests.BearerAuth(client)
            for call in range(1, args.calls + 1):
                answer = session.get(args.resource, timeout=30)
                print(f"call {call}: HTTP {answer.status_code} {answer.text.strip()[:200]}")
    except hctoken.OAuthError as error:
        print(
            f"the token endpoint refused us: {error.error} ({error.description})", file=sys.stderr
        )
        return 1
    except hctoken.Error as error:
        print(f"no token: {error.status}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
