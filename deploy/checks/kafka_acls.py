"""The cluster's Kafka security, tried on a real broker: TLS + SCRAM-SHA-512 and the generated ACLs.

    .venv/bin/python deploy/checks/kafka_acls.py        # about 2-4 minutes; not part of `make test`

Starts a throwaway single-node KRaft broker (dev's Kafka version, from dev's Maven cache; loopback only, free ports,
its own temporary folder) with what deploy/k8s asks Strimzi for: a SASL_SSL listener with SCRAM-SHA-512, the
StandardAuthorizer with no access where no ACL matches, a SCRAM user per KafkaUser of deploy/k8s/base/kafka/users.yaml
and exactly the ACLs written there (applied with Kafka's own Java Admin client). Then, as each user and with
the kit's own client settings (`fupin_kit.kafka_security` from KAFKA_* variables, as the ConfigMaps set them):

- a service's relay producer (`fupin_kit.events.relay.build_producer`: idempotent, acks=all) writes every topic the
  service produces, and is refused (TopicAuthorizationFailed) on a topic it does not produce;
- its consumer (the kit's settings, group = the service) reads and commits on every topic it consumes, and is refused
  on a topic it does not consume; it writes the `.dlq` of each consumed topic (dead letters);
- its platform gauges (`fupin_kit.platform_metrics`: lag and DLQ depth) refresh without an error;
- `fupin-operator` runs the real `fupin-dlq list` and `fupin-dlq replay --id` (reads a `.dlq`, writes the original
  topic, commits group fupin-dlq-replayed), and is refused on a consumer group of a service.

Exit status 0 when every expectation held. The broker and its folder are removed at the end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

REPO = Path(__file__).resolve().parents[2]
USERS = REPO / "deploy" / "k8s" / "base" / "kafka" / "users.yaml"
MECHANISM = "SCRAM-SHA-512"

PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
listeners=CLIENT://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=CLIENT://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal}
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms={mechanism}
listener.name.client.sasl.enabled.mechanisms={mechanism}
listener.name.client.{mechanism_lower}.sasl.jaas.config={jaas}
ssl.keystore.type=PKCS12
ssl.keystore.location={keystore}
ssl.keystore.password={storepass}
ssl.key.password={storepass}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# the loopback-only PLAINTEXT listener (broker and controller traffic, topic and ACL set-up) is the super user
super.users=User:ANONYMOUS
log.dirs={data}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
"""

LOG4J = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration><Appenders><File name="file" fileName="{log}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>
</Appenders><Loggers><Root level="WARN"><AppenderRef ref="file"/></Root></Loggers></Configuration>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kafka_users() -> dict[str, list[dict[str, Any]]]:
    docs = [d for d in yaml.safe_load_all(USERS.read_text(encoding="utf-8")) if d and d["kind"] == "KafkaUser"]
    for d in docs:
        assert d["spec"]["authentication"]["type"] == MECHANISM.lower()
    return {d["metadata"]["name"]: d["spec"]["authorization"]["acls"] for d in docs}


ACL_SETUP = """\
import java.nio.file.*;
import java.util.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.acl.*;
import org.apache.kafka.common.resource.*;

public class AclSetup {
    public static void main(String[] args) throws Exception {
        var props = new Properties();
        props.put("bootstrap.servers", args[0]);
        var bindings = new ArrayList<AclBinding>();
        for (var line : Files.readAllLines(Path.of(args[1]))) {  // user, type, name, pattern, operation, host
            var f = line.split("\\t");
            bindings.add(new AclBinding(
                new ResourcePattern(ResourceType.valueOf(f[1]), f[2], PatternType.valueOf(f[3])),
                new AccessControlEntry("User:" + f[0], f[5], AclOperation.valueOf(f[4]), AclPermissionType.ALLOW)));
        }
        try (var admin = Admin.create(props)) {
            admin.createAcls(bindings).all().get();
            System.out.println("ACLS " + admin.describeAcls(AclBindingFilter.ANY).values().get().size());
        }
    }
}
"""


def acl_rows(users: dict[str, list[dict[str, Any]]]) -> str:
    """The ACLs of users.yaml as lines for AclSetup (Kafka's own Admin client: aiokafka has no ACL API)."""
    pattern = {"literal": "LITERAL", "prefix": "PREFIXED"}  # Strimzi's patternType -> Kafka's PatternType
    rows = [(user, a["resource"]["type"].upper(), a["resource"]["name"], pattern[a["resource"]["patternType"]],
             _snake(op), a.get("host", "*"))
            for user, acls in users.items() for a in acls for op in a["operations"]]
    return "".join("\t".join(row) + "\n" for row in rows)


def _snake(operation: str) -> str:  # IdempotentWrite -> IDEMPOTENT_WRITE
    return "".join("_" + ch if ch.isupper() and i else ch for i, ch in enumerate(operation)).upper()


class Broker:
    def __init__(self, folder: Path, users: dict[str, str]) -> None:
        from fupin_dev.kafka import resolve

        self.folder = folder
        self.version, self.libs = resolve()
        self.client, self.internal, self.controller = free_port(), free_port(), free_port()
        self.passwords = users
        self.ca = folder / "ca.pem"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.client}"

    @property
    def internal_bootstrap(self) -> str:
        return f"127.0.0.1:{self.internal}"

    def java(self, *args: str) -> list[str]:
        return ["java", "-Xmx384m", f"-Dlog4j2.configurationFile={self.folder / 'log4j2.xml'}", "-cp",
                f"{self.libs}/*", *args]

    def start(self) -> None:
        storepass = secrets.token_hex(12)
        keystore = self.folder / "broker.p12"
        subprocess.run(["keytool", "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
                        "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                        "-keystore", str(keystore), "-storetype", "PKCS12", "-storepass", storepass],
                       check=True, capture_output=True)
        pem = subprocess.run(["keytool", "-exportcert", "-rfc", "-alias", "broker", "-keystore", str(keystore),
                              "-storepass", storepass], check=True, capture_output=True, text=True).stdout
        self.ca.write_text(pem)
        properties = self.folder / "server.properties"
        properties.write_text(PROPERTIES.format(
            client=self.client, internal=self.internal, controller=self.controller, mechanism=MECHANISM,
            mechanism_lower=MECHANISM.lower(),
            jaas="org.apache.kafka.common.security.scram.ScramLoginModule required;", keystore=keystore,
            storepass=storepass, data=self.folder / "data"))
        (self.folder / "log4j2.xml").write_text(LOG4J.format(log=self.folder / "kafka.log"))
        scram = [arg for user, password in self.passwords.items()
                 for arg in ("--add-scram", f"{MECHANISM}=[name={user},password={password}]")]
        cluster_id = "-"
        while cluster_id.startswith("-"):  # a Kafka Uuid: url-safe base64 without padding, never starting with '-'
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(self.java("kafka.tools.StorageTool", "format", "-t", cluster_id,
                                 "-c", str(properties), "--standalone", *scram), check=True, capture_output=True)
        self.process = subprocess.Popen(self.java("kafka.Kafka", str(properties)), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def as_user(user: str, password: str, ca: Path) -> None:
    """The environment a service's ConfigMap and Secret give it (deploy/k8s), read by the kit."""
    from fupin_kit.kafka_security import kafka_client_options

    os.environ.update({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": MECHANISM,
                       "KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": password, "KAFKA_SSL_CAFILE": str(ca)})
    kafka_client_options.cache_clear()


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, bool]] = []

    def add(self, user: str, what: str, outcome: str, ok: bool) -> None:
        self.rows.append((user, what, outcome, ok))
        print(f"{'ok ' if ok else 'FAIL'} {user:<15} {what:<55} {outcome}", flush=True)


async def produce(bootstrap: str, topic: str) -> str:
    from fupin_kit.events.relay import build_producer

    producer = build_producer(bootstrap)
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"{}", key=b"acl-check"), 30)
        return "written"
    except TopicAuthorizationFailedError:
        return "refused"
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, group: str) -> str:
    """Subscribe as the kit's EventConsumer does, read, commit."""
    from fupin_kit.kafka_security import kafka_client_options

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", metadata_max_age_ms=5000, **kafka_client_options())
    try:
        await consumer.start()
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            if any(batch.values()):
                await consumer.commit()
                return "read and committed"
        return "nothing read"
    except (TopicAuthorizationFailedError, GroupAuthorizationFailedError):
        return "refused"
    except KafkaError as exc:
        return f"error {type(exc).__name__}"
    finally:
        await consumer.stop()


async def gauges(bootstrap: str, service: str, topics: list[str]) -> str:
    from fupin_kit.platform_metrics import ERRORS, PlatformMetrics

    metrics = PlatformMetrics(service, None, bootstrap_servers=bootstrap, group_id=service, topics=topics,
                              min_interval=0, timeout=30)
    before = sum(s.value for m in ERRORS.collect() for s in m.samples if s.name.endswith("_total"))
    try:
        await metrics.refresh()
    finally:
        await metrics.close()
    after = sum(s.value for m in ERRORS.collect() for s in m.samples if s.name.endswith("_total"))
    return "refreshed" if after == before else "errors"


async def check(broker: Broker, users: dict[str, list[dict[str, Any]]], report: Report) -> None:
    from fupin_events import TOPICS

    admin = AIOKafkaAdminClient(bootstrap_servers=broker.internal_bootstrap)
    await admin.start()
    names = [t.name for t in TOPICS]
    await admin.create_topics([NewTopic(n, 1, 1) for n in names] + [NewTopic(f"{n}.dlq", 1, 1) for n in names])
    await admin.close()
    # one record in every topic, written as the super user, so that each reader has something to read
    seed = AIOKafkaProducer(bootstrap_servers=broker.internal_bootstrap)
    await seed.start()
    for n in names:
        await seed.send_and_wait(n, b"{}", key=b"seed")
    await seed.stop()

    services = [name for name in users if name != "fupin-operator"]
    for service in services:
        as_user(service, broker.passwords[service], broker.ca)
        produces = [t.name for t in TOPICS if t.producer == service]
        consumes = [t.name for t in TOPICS if service in t.consumers]
        foreign = next(t.name for t in TOPICS if t.producer != service and service not in t.consumers)
        for topic in produces:
            outcome = await produce(broker.bootstrap, topic)
            report.add(service, f"relay writes {topic}", outcome, outcome == "written")
        outcome = await produce(broker.bootstrap, foreign)
        report.add(service, f"relay writes {foreign} (not its own)", outcome, outcome == "refused")
        for topic in consumes:
            outcome = await consume(broker.bootstrap, topic, service)
            report.add(service, f"group {service} reads {topic}", outcome, outcome == "read and committed")
            outcome = await produce(broker.bootstrap, f"{topic}.dlq")
            report.add(service, f"dead-letters to {topic}.dlq", outcome, outcome == "written")
        not_consumed = next((t.name for t in TOPICS if service not in t.consumers and t.producer != service), None)
        if not_consumed:
            outcome = await consume(broker.bootstrap, not_consumed, service)
            report.add(service, f"group {service} reads {not_consumed} (not its own)", outcome, outcome == "refused")
        if consumes:
            outcome = await gauges(broker.bootstrap, service, consumes)
            report.add(service, "platform gauges (lag, DLQ depth)", outcome, outcome == "refreshed")

    # the operator's tool, as a process, with the operator's credentials
    topic = next(t.name for t in TOPICS if t.consumers)
    event_id = str(uuid.uuid4())
    seed = AIOKafkaProducer(bootstrap_servers=broker.internal_bootstrap)
    await seed.start()
    envelope = {"specversion": "1.0", "id": event_id, "type": f"cn.fupin.{topic}", "source": "acl-check",
                "subject": "acl-check", "time": "2026-01-01T00:00:00Z", "data": {}}
    await seed.send_and_wait(f"{topic}.dlq", json.dumps(envelope).encode(), key=b"acl-check",
                             headers=[("error", b"ValidationError"), ("consumer", b"acl-check"),
                                      ("topic", topic.encode()), ("partition", b"0"), ("offset", b"0")])
    await seed.stop()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "KAFKA_SASL_MECHANISM": MECHANISM, "KAFKA_SASL_USERNAME": "fupin-operator",
           "KAFKA_SASL_PASSWORD": broker.passwords["fupin-operator"], "KAFKA_SSL_CAFILE": str(broker.ca),
           "COLUMNS": "200"}
    dlq = str(Path(sys.executable).parent / "fupin-dlq")
    listed = await asyncio.to_thread(subprocess.run, [dlq, "list", "--topic", topic], env=env, capture_output=True,
                                     text=True, timeout=120)
    ok = listed.returncode == 0 and event_id in listed.stdout
    report.add("fupin-operator", f"fupin-dlq list --topic {topic}", "listed" if ok else listed.stderr[-300:], ok)
    replayed = await asyncio.to_thread(subprocess.run, [dlq, "replay", "--id", event_id], env=env,
                                       capture_output=True, text=True, timeout=120)
    ok = replayed.returncode == 0
    report.add("fupin-operator", f"fupin-dlq replay --id (writes {topic})",
               "replayed" if ok else (replayed.stdout + replayed.stderr)[-300:], ok)
    as_user("fupin-operator", broker.passwords["fupin-operator"], broker.ca)
    some_service = services[0]
    outcome = await consume(broker.bootstrap, topic, some_service)
    report.add("fupin-operator", f"joins group {some_service} (a service's)", outcome, outcome == "refused")


async def wait_ready(broker: Broker, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert broker.process is not None
        if broker.process.poll() is not None:
            raise RuntimeError(f"the broker exited; see {broker.folder / 'kafka.log'}")
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.internal_bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(2)
        finally:
            await admin.close()


def main() -> int:
    import logging

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    users = kafka_users()
    folder = Path(tempfile.mkdtemp(prefix="fupin-kafka-acls-"))
    broker = Broker(folder, {user: secrets.token_urlsafe(18) for user in users})
    report = Report()
    started = time.monotonic()
    try:
        broker.start()
        print(f"Kafka {broker.version}: SASL_SSL {broker.bootstrap}, {len(users)} SCRAM users", flush=True)
        asyncio.run(wait_ready(broker))
        (folder / "AclSetup.java").write_text(ACL_SETUP)
        (folder / "acls.tsv").write_text(acl_rows(users))
        applied = subprocess.run(["java", "-cp", f"{broker.libs}/*", str(folder / "AclSetup.java"),
                                  broker.internal_bootstrap, str(folder / "acls.tsv")],
                                 capture_output=True, text=True, timeout=300)
        count = next((line.split()[1] for line in applied.stdout.splitlines() if line.startswith("ACLS ")), None)
        if applied.returncode != 0 or count is None:
            print(applied.stdout[-2000:], applied.stderr[-2000:])
            return 1
        print(f"{count} ACL entries from {USERS.relative_to(REPO)}", flush=True)
        asyncio.run(check(broker, users, report))
    finally:
        broker.stop()
        shutil.rmtree(folder, ignore_errors=True)
    failed = [r for r in report.rows if not r[3]]
    print(f"{len(report.rows) - len(failed)} passed, {len(failed)} failed ({time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
