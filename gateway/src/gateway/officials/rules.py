"""Officials' rules as pure functions: the lock-out and what a role may do."""

import datetime as dt
from collections.abc import Sequence

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)
ROLES = ("viewer", "operator")
# Only scopes whose routes enforce the `division` claim (the dashboard and the registry's war-map household list);
# an operator adds the registry's writes (contract §9).
VIEWER_SCOPES = frozenset({"dashboard:read", "registry:warmap"})
OPERATOR_SCOPES = VIEWER_SCOPES | {"registry:write"}


def scopes_for(role: str) -> frozenset[str]:
    return OPERATOR_SCOPES if role == "operator" else VIEWER_SCOPES


def locked_until(failures: Sequence[dt.datetime], now: dt.datetime) -> dt.datetime | None:
    """Five failed logins within 15 minutes lock the account for 15 minutes from the fifth; None when not locked.

    `failures` are the account's failure times (any order)."""
    recent = sorted(failures, reverse=True)
    for i in range(len(recent) - MAX_FAILURES + 1):
        window = recent[i:i + MAX_FAILURES]
        if window[0] - window[-1] <= FAILURE_WINDOW:
            until = window[0] + LOCK_FOR
            return until if until > now else None
    return None
