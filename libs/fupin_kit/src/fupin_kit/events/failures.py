"""Why did handling an event fail? Transient (the moment: retry forever) or content (the event: dead-letter).

Operators of a payment system expect a database restart, a lost connection, a deadlock or a broker blip to delay
events, never to drop them; and an event that can never be processed (bad shape, a rule that refuses it) to be set
aside where an operator can see and replay it, without holding back the rest of its partition.
"""

import enum
import json

from pydantic import ValidationError


class PoisonEvent(Exception):
    """Raise from a handler when the event's content can never be processed (a domain rule refuses it): the event
    goes to `<topic>.dlq` at once, without retries. The message is logged by class only (it may hold personal data).
    """


class Failure(enum.Enum):
    TRANSIENT = "transient"  # retry without limit, holding back the partition
    CONTENT = "content"  # dead-letter at once
    UNKNOWN = "unknown"  # a few quick retries, then dead-letter (a bug: an operator replays it once fixed)


# SQLSTATE classes and codes that say "not now" rather than "never" (PostgreSQL appendix A).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "40", "53", "57P", "58")
_TRANSIENT_SQLSTATES = {"55P03", "57014", "55006"}  # lock_not_available, query_canceled (timeouts), object_in_use
_CONTENT_SQLSTATE_PREFIXES = ("22",)  # data exception: a value from the event does not fit


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc`, the exceptions it wraps (SQLAlchemy's `.orig`) and its causes, without cycles."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending.extend([orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__])
    return seen


def _sqlstate(exc: BaseException) -> str | None:
    for attr in ("sqlstate", "pgcode"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    return None


def _is_transient(exc: BaseException) -> bool:
    import asyncpg
    import sqlalchemy.exc as sa_exc
    from aiokafka.errors import KafkaError

    if isinstance(exc, (OSError, TimeoutError, ConnectionError, KafkaError, asyncpg.PostgresConnectionError,
                        asyncpg.InterfaceError, asyncpg.exceptions.OperatorInterventionError,
                        asyncpg.exceptions.TransactionRollbackError, asyncpg.exceptions.InsufficientResourcesError,
                        asyncpg.exceptions.LockNotAvailableError,
                        sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                        sa_exc.DisconnectionError, sa_exc.ResourceClosedError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    return state is not None and (state in _TRANSIENT_SQLSTATES or state.startswith(_TRANSIENT_SQLSTATE_PREFIXES))


def _is_content(exc: BaseException) -> bool:
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, (PoisonEvent, ValidationError, json.JSONDecodeError, KeyError, TypeError, ValueError,
                        LookupError, sa_exc.DataError)):
        return True
    state = _sqlstate(exc)
    return state is not None and state.startswith(_CONTENT_SQLSTATE_PREFIXES)


def classify(exc: BaseException) -> Failure:
    """Transient wins over content anywhere in the chain: a `ValueError` raised while the connection was lost is
    still the connection's fault."""
    chain = _chain(exc)
    if any(_is_transient(e) for e in chain):
        return Failure.TRANSIENT
    if _is_content(exc) or any(isinstance(e, PoisonEvent) for e in chain):
        return Failure.CONTENT
    if any(_is_content(e) for e in chain):
        return Failure.CONTENT
    return Failure.UNKNOWN
