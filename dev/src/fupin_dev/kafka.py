"""A single-node KRaft Kafka (broker + controller) from Maven Central jars, and the platform's topics."""

import asyncio
import base64
import logging
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from fupin_events import TOPICS as CONTRACT_TOPICS
from fupin_events import topic_names

from . import config
from .processes import StackError, alive, read_pid, spawn, tail, terminate

# The version dev runs equals the cluster's (deploy/k8s/generate.py KAFKA_VERSION; tests/deploy checks it): the newest
# Kafka that both the targeted Strimzi release (1.2.0: Kafka 4.2.0-4.3.1) and Maven Central serve. Only one, so that a
# failed download stops `make up` instead of silently running another version. FUPIN_KAFKA_VERSION forces another one.
# A data folder (.run/kafka/data) formatted by a newer Kafka (4.4.0 before) may not start: remove it to move down.
VERSIONS = ("4.3.1",)
TOPICS = topic_names()  # the event contracts (libs/fupin_events) are the one list
PARTITIONS, DLQ_PARTITIONS = 3, 1
# contract §6: household topics and division-updated compacted, division-exited and payment-completed kept forever
RETENTION_CONFIGS: dict[str, dict[str, str]] = {
    "compacted": {"cleanup.policy": "compact", "retention.ms": "-1"},
    "forever": {"retention.ms": "-1"},
    "default": {},
}
MARKER = "kafka.Kafka"
TOPIC_ALREADY_EXISTS = 36

SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
num.partitions=3
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
"""

LOG4J2_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Appenders>
    <File name="file" fileName="{log}" append="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="file"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.controller" level="INFO"/>
  </Loggers>
</Configuration>
"""


def state_dir() -> Path:
    return config.run_dir() / "kafka"


def log_file() -> Path:
    return config.logs_dir() / "kafka.log"


def pidfile() -> Path:
    return config.pids_dir() / "kafka.pid"


def pid() -> int | None:
    return read_pid(pidfile(), MARKER)


def resolve() -> tuple[str, Path]:
    """(version, libs folder): the newest cached version, else the newest that Maven can resolve."""
    wanted = (os.environ["FUPIN_KAFKA_VERSION"],) if os.environ.get("FUPIN_KAFKA_VERSION") else VERSIONS
    home = config.cache_dir() / "kafka"
    for version in wanted:
        if (home / version / "resolved").is_file():
            return version, home / version / "libs"
    errors = []
    for version in wanted:
        target, scratch = home / version / "libs", home / version / "libs.partial"
        shutil.rmtree(scratch, ignore_errors=True)
        result = subprocess.run(
            [
                "mvn", "-q", "-B", "-f", str(config.root() / "dev" / "kafka" / "pom.xml"),
                f"-Dkafka.version={version}", "dependency:copy-dependencies",
                "-DincludeScope=runtime", f"-DoutputDirectory={scratch}",
            ],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode == 0:
            shutil.rmtree(target, ignore_errors=True)
            scratch.rename(target)
            (home / version / "resolved").touch()
            return version, target
        shutil.rmtree(home / version, ignore_errors=True)
        errors.append(f"--- kafka {version}:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
    raise StackError("cannot resolve Kafka from Maven Central", "\n".join(errors))


def _cluster_id() -> str:
    """A Kafka Uuid string (url-safe base64 without padding); Kafka never issues one starting with '-'."""
    while (text := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-":
        pass
    return text


def start() -> tuple[str, int] | None:
    """Start the local broker unless it runs already; returns (version, pid) when started."""
    if pid() is not None:
        return None
    version, libs = resolve()
    folder, data = state_dir(), state_dir() / "data"
    folder.mkdir(parents=True, exist_ok=True)
    log_file().parent.mkdir(parents=True, exist_ok=True)
    properties, log4j = folder / "server.properties", folder / "log4j2.xml"
    port = config.kafka_port()
    properties.write_text(SERVER_PROPERTIES.format(data=data, port=port, controller=port + 1))
    log4j.write_text(LOG4J2_XML.format(log=log_file()))
    java = ["java", "-Xmx512m", f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*"]
    if not (data / "meta.properties").is_file():
        with log_file().open("a") as out:
            formatted = subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(properties),
                 "--standalone", "--ignore-formatted"],
                stdout=out, stderr=out,
            )  # fmt: skip
        if formatted.returncode != 0:
            raise StackError(f"formatting Kafka {version} storage failed", tail(log_file()))
    started = spawn(
        [*java, "-XX:+ExitOnOutOfMemoryError", MARKER, str(properties)],
        log=log_file(),
        pidfile=pidfile(),
        env={},
        cwd=folder,
    )
    return version, started


async def wait_ready(bootstrap: str, timeout: float = 90, broker_pid: int | None = None) -> None:
    """Until the cluster answers a metadata request (and, if given, while our broker process lives)."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    deadline = time.monotonic() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError):
            if broker_pid is not None and not alive(broker_pid):
                raise StackError("Kafka exited during start-up", tail(log_file())) from None
            if time.monotonic() > deadline:
                raise StackError(f"Kafka at {bootstrap} not ready after {timeout:.0f} s", tail(log_file())) from None
        finally:
            await admin.close()
        await asyncio.sleep(1)


async def ensure_topics(bootstrap: str, attempts: int = 20) -> list[str]:
    """Create every missing platform topic and its `.dlq`; returns the created names."""
    wanted = {t: PARTITIONS for t in TOPICS} | {f"{t}.dlq": DLQ_PARTITIONS for t in TOPICS}
    configs = {t.name: RETENTION_CONFIGS[t.retention] for t in CONTRACT_TOPICS}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        for attempt in range(attempts):
            existing = set(await admin.list_topics())
            missing = [NewTopic(name, n, 1, topic_configs=configs.get(name, {}))
                       for name, n in wanted.items() if name not in existing]
            if not missing:
                return []
            response = await admin.create_topics(missing)
            failed = [(t, code, msg) for t, code, msg in response.topic_errors if code not in (0, TOPIC_ALREADY_EXISTS)]
            if not failed:
                return [t.name for t in missing]
            if attempt == attempts - 1:  # e.g. no broker registered yet right after start-up
                raise StackError("creating Kafka topics failed", "\n".join(map(str, failed)))
            await asyncio.sleep(1)
    finally:
        await admin.close()
    return []


def stop() -> bool:
    return bool(terminate([(pidfile(), MARKER)], timeout=60))
