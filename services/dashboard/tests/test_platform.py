from fupin_kit.testing import test_health_and_readiness, test_metrics_are_prometheus_text

__all__ = ["test_health_and_readiness", "test_metrics_are_prometheus_text"]
