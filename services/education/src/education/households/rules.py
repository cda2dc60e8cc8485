"""Who counts as registered poor (contract §1, last paragraph; seed §一(二): exited households keep every policy)."""

REGISTERED_POOR_STATUSES: frozenset[str] = frozenset({"registered", "exited", "returned"})


def is_registered_poor(status: str) -> bool:
    """`registered`, `exited` (脱贫不脱政策) and `returned` are registered poor; `removed` and the rest are not."""
    return status in REGISTERED_POOR_STATUSES
