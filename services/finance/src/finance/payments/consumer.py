"""Payments ordered by events are applied a poll batch per transaction by the kit's consumer (issue 14 target 4).

The handlers of the topics that order payments are the kit's `BatchHandler`s (`finance.payments.handlers`): the
kit inserts the batch's inbox rows in one statement and calls `apply` with the new events only, in offset order;
`settle.order_many` records and pays them with set-based SQL. Exactly once (inbox rows commit with the payments),
offsets after the commit, a transient failure retries the batch, a bad record is dead-lettered alone: see
`fupin_kit.events.consumer`.
"""

from fupin_kit.events.consumer import BatchHandler

__all__ = ["BatchHandler"]
