"""The KafkaUsers' read ACLs (generated from fupin_events.TOPICS) cover what each service's code subscribes to.

With `authorization: simple` a consumer of a topic its KafkaUser may not read fails in the cluster
(TopicAuthorizationFailed) although it works in dev, whose broker has no ACLs. The subscriptions are the keys of the
HANDLERS each service's main.py passes to the kit; they are read in one subprocess (the services' SQLModel tables share
one global metadata, so each service's modules are imported after clearing it), in a few seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]

COLLECT = """
import importlib, json, sys
from sqlmodel import SQLModel
out = {}
for service, module in json.loads(sys.argv[1]).items():
    SQLModel.metadata.clear()
    out[service] = sorted(importlib.import_module(module).HANDLERS)
print(json.dumps(out))
"""


def test_every_subscription_of_the_code_is_granted_and_every_grant_is_used(k8s_generator: ModuleType) -> None:
    generator = k8s_generator
    modules: dict[str, str] = {}
    for c in generator.SERVICES:
        main = (REPO / c.folder / "src" / c.name / "main.py").read_text(encoding="utf-8")
        found = re.search(r"^from (\S+) import .*\bHANDLERS\b", main, re.M)
        if found:
            assert "handlers=HANDLERS" in main.replace(" ", ""), c.name
            modules[c.name] = found.group(1)
    result = subprocess.run([sys.executable, "-c", COLLECT, json.dumps(modules)], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    subscribed = json.loads(result.stdout.strip().splitlines()[-1])
    for c in generator.SERVICES:
        code = set(subscribed.get(c.name, []))
        granted = set(c.consumes)
        assert code <= granted, f"{c.name} subscribes to {sorted(code - granted)} without a read ACL: list it as a " \
                                "consumer in fupin_events.TOPICS and regenerate deploy/k8s"
        assert granted <= code, f"{c.name} may read {sorted(granted - code)} but consumes none of it"
