"""`fupin-dlq` moved to the `fupin-ops` package (libs/fupin_ops), which every component image installs; this name
stays for the test suites and scripts that import it from here."""

from fupin_ops.dlq import (
    DeadLetter,
    app,
    count_dead_letters,
    dlq_topics,
    kafka_bootstrap,
    mask,
    read_dead_letters,
    replay,
)

__all__ = ["DeadLetter", "app", "count_dead_letters", "dlq_topics", "kafka_bootstrap", "mask", "read_dead_letters",
           "replay"]
