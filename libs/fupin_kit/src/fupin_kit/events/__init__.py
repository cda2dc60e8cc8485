"""CloudEvents over Kafka with a transactional outbox and an idempotent inbox."""
