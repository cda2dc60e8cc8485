"""deploy/k8s: every overlay renders, its built-in objects pass the Kubernetes 1.31 schemas strictly, its custom
resources (Strimzi, CloudNativePG) carry what their operators require, and the deployment rules of issue 8 hold."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml


def _load_renderer() -> ModuleType:
    """The renderer next to this file, loaded by path: tests/ is no package, so this works in any import mode."""
    path = Path(__file__).with_name("kustomize_render.py")
    spec = importlib.util.spec_from_file_location("fupin_kustomize_render", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_renderer = _load_renderer()
render = _renderer.render
resource_id = _renderer.resource_id
Doc = dict[str, Any]
REPO: Path = _renderer.REPO
K8S: Path = _renderer.K8S
OVERLAYS: tuple[str, ...] = _renderer.OVERLAYS

K8S_VERSION = "1.31"
NAMESPACE = "fupin"
SERVICES = ("registry", "finance", "microcredit", "education", "medical")
COMPONENTS = ("gateway", *SERVICES)
TOPICS = (  # contract §6, named exactly
    "household-registered", "exit-certified", "returned-to-poverty", "household-removed", "division-exited",
    "loan-disbursed", "interest-subsidy-claimed", "risk-compensation-claimed", "grant-awarded",
    "settlement-completed", "settlement-reversed", "payment-completed",
)
CUSTOM_GROUPS = {"kafka.strimzi.io", "postgresql.cnpg.io", "barmancloud.cnpg.io"}
KAFKA = "fupin-kafka"
PG = "fupin-pg"
# Secrets that an overlay expects to exist in the cluster rather than defining them (deploy/README.md).
JWT_SECRETS = {"fupin-jwt-signing", "fupin-jwt-verify"}
EXTERNAL_SECRETS = {
    "dev": JWT_SECRETS,
    "prod": JWT_SECRETS | {"fupin-pseudonym", "fupin-gateway-clients", "fupin-pg-backup-s3", "fupin-tls"}
    | {f"fupin-{c}-db" for c in COMPONENTS},
}
DEMO_CLIENTS = ("gov-portal", "bank-demo", "bank-other", "his-demo", "auditor")

overlays = pytest.mark.parametrize("overlay", OVERLAYS)


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


def pod_spec(deployment: Doc) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and In/NotIn/Exists/DoesNotExist expressions) applied to labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def app_pod_labels(docs: list[Doc]) -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in of_kind(docs, "Deployment")}


# --- rendering and schemas -------------------------------------------------------------------------------------


@overlays
def test_overlay_renders_into_one_namespace(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    assert [d["metadata"]["name"] for d in of_kind(docs, "Namespace")] == [NAMESPACE]
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, resource_id(doc)


@overlays
def test_builtin_objects_are_valid_kubernetes_1_31(rendered: dict[str, list[Doc]], overlay: str) -> None:
    builtin = [d for d in rendered[overlay] if group(d) not in CUSTOM_GROUPS]
    assert len(builtin) > 40
    errors = []
    for doc in builtin:
        try:
            kubernetes_validate.validate(doc, desired_version=K8S_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            errors.append(f"{resource_id(doc)}: {getattr(exc, 'message', exc)}")
    assert not errors, "\n".join(errors)


@overlays
def test_only_known_custom_resources(rendered: dict[str, list[Doc]], overlay: str) -> None:
    kinds = {(group(d), d["kind"]) for d in rendered[overlay] if group(d) in CUSTOM_GROUPS}
    assert kinds == {
        ("kafka.strimzi.io", "Kafka"), ("kafka.strimzi.io", "KafkaNodePool"), ("kafka.strimzi.io", "KafkaTopic"),
        ("postgresql.cnpg.io", "Cluster"), ("postgresql.cnpg.io", "Database"),
        ("postgresql.cnpg.io", "ScheduledBackup"), ("barmancloud.cnpg.io", "ObjectStore"),
    }
    for doc in rendered[overlay]:
        if group(doc) in CUSTOM_GROUPS:
            assert doc["apiVersion"] in {"kafka.strimzi.io/v1beta2", "postgresql.cnpg.io/v1", "barmancloud.cnpg.io/v1"}
            assert isinstance(doc["spec"], dict) and doc["metadata"]["name"]


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
    theirs = {resource_id(d): d for d in yaml.safe_load_all(out.stdout) if d}
    ours = {resource_id(d): d for d in rendered[overlay]}
    assert theirs.keys() == ours.keys()
    for rid, doc in ours.items():
        assert theirs[rid] == doc, rid


# --- components --------------------------------------------------------------------------------------------------


@overlays
def test_each_component_has_its_objects(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert sorted(d["metadata"]["name"] for d in of_kind(docs, kind)) == sorted(COMPONENTS), kind
    configmaps = sorted(d["metadata"]["name"] for d in of_kind(docs, "ConfigMap"))
    assert configmaps == sorted(f"{c}-config" for c in COMPONENTS)
    # No separate relay or consumer workloads: they run in each service's process (the app's lifespan).
    assert not [d for d in docs if d["kind"] in {"StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}]


@overlays
def test_deployments_are_probed_bounded_and_locked_down(rendered: dict[str, list[Doc]], overlay: str) -> None:
    for deployment in of_kind(rendered[overlay], "Deployment"):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        (app,) = spec["containers"]
        assert app["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert app["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert {p["containerPort"] for p in app["ports"]} == {8080}, name
        for container in spec["initContainers"] + spec["containers"]:
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, container["name"], bound)
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True, (name, container["name"])
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            tmp = next(v for v in spec["volumes"] if v["name"] == mounts["/tmp"])
            assert "emptyDir" in tmp, (name, container["name"])
        assert "replicas" not in deployment["spec"], f"{name}: the HPA owns the replica count"


@overlays
def test_migrations_run_before_the_app_starts(rendered: dict[str, list[Doc]], overlay: str) -> None:
    for deployment in of_kind(rendered[overlay], "Deployment"):
        name = deployment["metadata"]["name"]
        folder = "gateway" if name == "gateway" else f"services/{name}"
        spec = pod_spec(deployment)
        (migrate,) = spec["initContainers"]
        (app,) = spec["containers"]
        assert migrate["command"] == ["alembic", "-c", f"/app/{folder}/alembic.ini", "upgrade", "head"]
        assert migrate["image"] == app["image"], "the migrations come from the version about to start"
        assert migrate["env"] == app["env"] and migrate["envFrom"] == app["envFrom"]
        strategy = deployment["spec"]["strategy"]["rollingUpdate"]
        assert strategy["maxUnavailable"] == 0, "old pods serve until new, migrated ones are ready"


@overlays
def test_component_environment(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    bootstrap = f"{KAFKA}-kafka-bootstrap.{NAMESPACE}.svc:9092"
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        (app,) = spec["containers"]
        config = named(docs, "ConfigMap", app["envFrom"][0]["configMapRef"]["name"])["data"]
        assert config["FUPIN_PROFILE"] == overlay
        assert config["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
        env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in app["env"]}
        assert env[f"{name.upper()}_DATABASE_URL"] == {"name": f"fupin-{name}-db", "key": "database-url"}
        assert env["FUPIN_PSEUDONYM_KEY"] == {"name": "fupin-pseudonym", "key": "key"}
        mounted = {v["name"]: v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
        mounts = {m["mountPath"]: m["name"] for m in app["volumeMounts"]}
        files = {"FUPIN_JWT_PUBLIC_KEY_FILE": "fupin-jwt-verify"}
        if name == "gateway":
            files |= {"FUPIN_JWT_PRIVATE_KEY_FILE": "fupin-jwt-signing", "FUPIN_CLIENTS_FILE": "fupin-gateway-clients"}
            for svc in SERVICES:
                url = config[f"FUPIN_{svc.upper()}_URL"]
                assert url == f"http://{svc}.{NAMESPACE}.svc:80"
                named(docs, "Service", svc)
        else:
            assert "fupin-jwt-signing" not in mounted.values(), f"{name} must not hold the signing key"
        for var, secret in files.items():
            directory, _, _ = config[var].rpartition("/")
            assert mounted[mounts[directory]] == secret, (name, var)


@overlays
def test_services_hpas_and_pdbs_select_their_pods(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    pods = app_pod_labels(docs)
    for name, labels in pods.items():
        deployment = named(docs, "Deployment", name)
        assert selects(deployment["spec"]["selector"], labels)
        service = named(docs, "Service", name)
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
        assert [n for n, lb in pods.items() if all(lb.get(k) == v for k, v in service["spec"]["selector"].items())] \
            == [name]
        assert service["spec"]["ports"][0]["targetPort"] == "http"
        hpa = named(docs, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        pdb = named(docs, "PodDisruptionBudget", name)
        assert [n for n, lb in pods.items() if selects(pdb["spec"]["selector"], lb)] == [name]
        assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "a node drain can always proceed"


# --- exposure and network ----------------------------------------------------------------------------------------


@overlays
def test_one_ingress_to_the_gateway_only(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    (ingress,) = of_kind(docs, "Ingress")
    backends = [p["backend"]["service"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert backends and {b["name"] for b in backends} == {"gateway"}
    assert "defaultBackend" not in ingress["spec"]
    for service in of_kind(docs, "Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]
    if overlay == "prod":
        assert ingress["spec"]["tls"][0]["secretName"]


def _policies(docs: list[Doc], pod: dict[str, str], direction: str) -> list[Doc]:
    return [p for p in of_kind(docs, "NetworkPolicy")
            if selects(p["spec"]["podSelector"], pod) and direction in p["spec"]["policyTypes"]]


def _allowed_peers(docs: list[Doc], pod: dict[str, str], direction: str) -> list[tuple[dict[str, Any], set[int]]]:
    """(peer, ports) pairs that the policies selecting pod allow; ports empty means any."""
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
    pods = app_pod_labels(docs)
    pg_pod = {"cnpg.io/cluster": PG}
    broker_pod = {"strimzi.io/cluster": KAFKA, "strimzi.io/broker-role": "true"}
    dns_pod = {"k8s-app": "kube-dns"}
    for name, labels in pods.items():
        ingress = _allowed_peers(docs, labels, "Ingress")
        egress = _allowed_peers(docs, labels, "Egress")
        assert ingress, f"{name} is reachable by someone"
        if name == "gateway":
            assert [(p["namespaceSelector"], ports) for p, ports in ingress] == [
                ({"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}, {8080})]
        else:
            assert all(set(p) == {"podSelector"} and selects(p["podSelector"], pods["gateway"])
                       and not any(selects(p["podSelector"], pods[s]) for s in SERVICES) and ports == {8080}
                       for p, ports in ingress), f"only the gateway reaches {name}"
        # Every egress peer is DNS, PostgreSQL, a Kafka broker or (the gateway only) a service, on its port.
        for peer, ports in egress:
            assert ports, f"{name}: egress without a port restriction"
            selector = peer.get("podSelector", {})
            if "namespaceSelector" in peer:
                assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
                assert selects(selector, dns_pod) and ports == {53}
            elif selects(selector, pg_pod):
                assert ports == {5432}
            elif selects(selector, broker_pod):
                assert ports == {9092}
            else:
                assert name == "gateway" and ports == {8080}
                assert {n for n, lb in pods.items() if selects(selector, lb)} == set(SERVICES)
        reached = {"pg": pg_pod, "kafka": broker_pod, "dns": dns_pod}
        for what, target in reached.items():
            assert any(selects(p.get("podSelector", {}), target) for p, _ in egress), f"{name} cannot reach {what}"
    pg_ingress = _allowed_peers(docs, pg_pod, "Ingress")
    for name, labels in pods.items():
        assert any(selects(p.get("podSelector", {"matchLabels": {"-": "-"}}), labels) and ports == {5432}
                   for p, ports in pg_ingress if "namespaceSelector" not in p), f"PostgreSQL admits {name}"


# --- Kafka -------------------------------------------------------------------------------------------------------


@overlays
def test_kafka_is_kraft_with_node_pools_and_replication_3(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    kafka = named(docs, "Kafka", KAFKA)
    spec = kafka["spec"]["kafka"]
    assert "zookeeper" not in kafka["spec"]
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert "replicas" not in spec and "storage" not in spec, "sizes live in the node pools"
    listeners = {lst["name"]: lst for lst in spec["listeners"]}
    assert listeners["plain"]["port"] == 9092 and listeners["plain"]["type"] == "internal"
    for listener in spec["listeners"]:
        assert {"name", "port", "type", "tls"} <= set(listener)
        assert re.fullmatch(r"[a-z0-9]{1,11}", listener["name"])
    config = spec["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3 and config["transaction.state.log.min.isr"] == 2
    assert "topicOperator" in kafka["spec"]["entityOperator"]

    pools = of_kind(docs, "KafkaNodePool")
    roles: dict[str, int] = {}
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == KAFKA
        assert pool["spec"]["replicas"] >= 3
        assert set(pool["spec"]["roles"]) <= {"controller", "broker"} and pool["spec"]["roles"]
        storage = pool["spec"]["storage"]
        assert storage["type"] in {"jbod", "persistent-claim"}
        volumes = storage.get("volumes", [storage])
        assert all(v["type"] == "persistent-claim" and v["size"] for v in volumes)
        for role in pool["spec"]["roles"]:
            roles[role] = roles.get(role, 0) + pool["spec"]["replicas"]
    assert roles["controller"] % 2 == 1 and roles["controller"] >= 3, "a controller quorum"
    assert roles["broker"] >= 3, "replication 3 needs three brokers"


def test_topics_named_in_the_contract_are_the_ones_listed_here() -> None:
    contract = REPO.parent / "shared" / "contract.md"
    if not contract.exists():
        pytest.skip("the shared contract is not next to the repository")
    section = contract.read_text(encoding="utf-8").split("## 6. Events", 1)[1].split("Each message value", 1)[0]
    assert tuple(re.findall(r"`([a-z-]+)`", section)) == TOPICS


@overlays
def test_every_topic_and_its_dead_letter_topic_exist(rendered: dict[str, list[Doc]], overlay: str) -> None:
    topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in of_kind(rendered[overlay], "KafkaTopic")}
    assert set(topics) == set(TOPICS) | {f"{t}.dlq" for t in TOPICS}
    for name, topic in topics.items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == KAFKA, name
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", topic["metadata"]["name"]), name
        spec = topic["spec"]
        assert spec["partitions"] >= 1 and spec["replicas"] == 3, name
        assert int(spec["config"]["min.insync.replicas"]) == 2, name
    hpa_max = max(h["spec"]["maxReplicas"] for h in of_kind(rendered[overlay], "HorizontalPodAutoscaler"))
    assert all(topics[t]["spec"]["partitions"] >= hpa_max for t in TOPICS), "no idle consumer at full scale"


# --- PostgreSQL ----------------------------------------------------------------------------------------------------


@overlays
def test_postgres_cluster_databases_and_backups(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    cluster = named(docs, "Cluster", PG)
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["storage"]["size"]
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    assert set(roles) == set(COMPONENTS)
    for name, role in roles.items():
        assert role["login"] is True and role["ensure"] == "present"
        assert role["passwordSecret"]["name"] == f"fupin-{name}-db"
    databases = {d["spec"]["name"]: d["spec"] for d in of_kind(docs, "Database")}
    assert set(databases) == set(COMPONENTS), "one database per component"
    for name, db in databases.items():
        assert db["owner"] == name and db["cluster"]["name"] == PG

    (plugin,) = spec["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
    store = named(docs, "ObjectStore", plugin["parameters"]["barmanObjectName"])
    configuration = store["spec"]["configuration"]
    assert configuration["destinationPath"].startswith("s3://")
    credentials = configuration["s3Credentials"]
    assert {credentials[k]["name"] for k in ("accessKeyId", "secretAccessKey")} == {"fupin-pg-backup-s3"}
    assert re.fullmatch(r"[1-9][0-9]*[dwm]", store["spec"]["retentionPolicy"])
    (scheduled,) = of_kind(docs, "ScheduledBackup")
    assert scheduled["spec"]["cluster"]["name"] == PG
    assert len(scheduled["spec"]["schedule"].split()) == 6, "CloudNativePG schedules have a seconds field"
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"]["name"] == plugin["name"]


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
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(docs)
    return names


@overlays
def test_secrets_are_defined_or_expected_from_outside(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    defined = {d["metadata"]["name"] for d in of_kind(docs, "Secret")}
    referenced = _referenced_secrets(docs)
    assert referenced - defined == EXTERNAL_SECRETS[overlay]
    assert not defined - referenced, "no unused Secret"
    for secret in of_kind(docs, "Secret"):
        if secret["metadata"]["name"].endswith("-db"):
            assert secret["type"] == "kubernetes.io/basic-auth"
            data = secret["stringData"]
            assert data["database-url"].startswith(f"postgresql+asyncpg://{data['username']}:")
            assert data["database-url"].endswith(f"@{PG}-rw.{NAMESPACE}.svc:5432/{data['username']}")


def test_demo_clients_only_in_dev(rendered: dict[str, list[Doc]]) -> None:
    """The gateway builds the contract's demo clients in only with FUPIN_PROFILE=dev (gateway.clients)."""
    for overlay, docs in rendered.items():
        assert named(docs, "ConfigMap", "gateway-config")["data"]["FUPIN_PROFILE"] == overlay
    prod = yaml.safe_dump_all(rendered["prod"])
    assert not of_kind(rendered["prod"], "Secret"), "prod Secrets come from the secret store"
    assert "dev-secret" not in prod and "dev-password" not in prod
    assert not any(client in prod for client in DEMO_CLIENTS)
    # A clients file holds scrypt hashes, never a secret (gateway.clients.load_clients_file refuses anything else).
    clients = yaml.safe_load(named(rendered["dev"], "Secret", "fupin-gateway-clients")["stringData"]["clients.json"])
    assert isinstance(clients, list)
    assert all(set(c) <= {"client_id", "secret_hash", "scopes", "bank_code", "rate_limit"} for c in clients)
    assert all(c["secret_hash"].startswith("scrypt$") for c in clients)


@overlays
def test_no_private_key_is_committed(overlay: str) -> None:
    for path in K8S.rglob("*.yaml"):
        assert "PRIVATE KEY" not in path.read_text(encoding="utf-8"), path


# --- images --------------------------------------------------------------------------------------------------------


@overlays
def test_images_are_tagged_per_overlay(rendered: dict[str, list[Doc]], overlay: str) -> None:
    for deployment in of_kind(rendered[overlay], "Deployment"):
        name = deployment["metadata"]["name"]
        for container in pod_spec(deployment)["initContainers"] + pod_spec(deployment)["containers"]:
            image = container["image"]
            assert image.rsplit("/", 1)[-1].split(":")[0] == name
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image


def test_one_dockerfile_builds_every_component() -> None:
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG COMPONENT" in dockerfile
    for component in COMPONENTS:
        assert component in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert re.search(r"^FROM python:3\.11-slim|PYTHON_IMAGE=python:3\.11-slim", dockerfile, flags=re.M)
    assert "--port 8080" in dockerfile


def test_base_renders_alone() -> None:
    assert render(Path(K8S / "base"))
