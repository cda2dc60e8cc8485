"""The alert rules name the metrics the apps export (fupin_kit.platform_metrics): a renamed gauge breaks this test,
not the alerts silently."""

import re
from pathlib import Path
from types import ModuleType

from prometheus_client import REGISTRY

import fupin_kit.events.consumer
import fupin_kit.events.relay
import fupin_kit.observability
import fupin_kit.platform_metrics  # noqa: F401  (each module registers its metrics)

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def test_alert_rules_name_only_metrics_the_apps_export(k8s_generator: ModuleType) -> None:
    _, docs = k8s_generator.monitoring_docs()
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    expressions = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    suffixes = {"counter": ("_total",), "histogram": ("_count", "_sum", "_bucket"), "gauge": ("",)}
    exported = {metric.name + suffix for metric in REGISTRY.collect() for suffix in suffixes.get(metric.type, ("",))}
    named = set(re.findall(r"(?<![a-z_])fupin_[a-z_]+", expressions))
    assert named, "the rules read the apps' metrics"
    assert not named - exported, f"alert rules name metrics nobody exports: {sorted(named - exported)}"
    # the operational gauges of issue 13: outbox age, consumer lag, DLQ depth, pool use
    assert {"fupin_outbox_oldest_unsent_age_seconds", "fupin_consumer_lag", "fupin_dlq_depth",
            "fupin_db_pool_in_use", "fupin_db_pool_max"} <= named
    committed = (K8S / "base" / "monitoring" / "monitoring.yaml").read_text(encoding="utf-8")
    assert "fupin_consumer_lag" in committed, "deploy/k8s/base is regenerated (python deploy/k8s/generate.py)"
