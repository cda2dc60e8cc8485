"""Strict validation of custom resources against the operators' CRDs (no network).

The CRDs are the operators' own files, listed with their source in deploy/crds/SOURCES.md. They are not committed
(this project keeps no copies of other projects' files): a pipeline puts them in `$FUPIN_CRD_DIR` (default
`.cache/crds`, git-ignored) from the operators' release tags, and the tests that need them skip, saying so, where
they are absent.

kubeconform-style: each custom resource is checked against the `openAPIV3Schema` of the served version of its CRD
with jsonschema, and "strict" means what kubeconform's -strict means: a field the schema does not declare is an
error (the API server would silently prune it). Fields under `x-kubernetes-preserve-unknown-fields` stay open.
CEL rules (`x-kubernetes-validations`) are not evaluated.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
CRDS = Path(os.environ.get("FUPIN_CRD_DIR") or REPO / ".cache" / "crds")
CACHE = REPO / ".cache" / "crd-json"  # parsed CRDs keyed by content hash (git-ignored): YAML parsing takes seconds
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(path: Path) -> list[Any]:
    raw = path.read_bytes()
    cached = CACHE / f"{hashlib.sha256(raw).hexdigest()}.json"
    if cached.exists():
        return list(json.loads(cached.read_text(encoding="utf-8")))
    docs = [d for d in yaml.load_all(raw.decode("utf-8"), Loader=Loader) if d]
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(docs), encoding="utf-8")
    except OSError:
        pass
    return docs


def _strict(schema: Any) -> Any:
    """A copy where every object with declared properties refuses undeclared ones (unless it preserves them)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) if k in ("properties", "items", "additionalProperties", "allOf", "anyOf", "oneOf", "not")
           else v for k, v in schema.items()}
    if "properties" in out:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if "additionalProperties" not in out and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    return out


@cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """{(apiVersion, kind): strict JSON schema} for every served version of every vendored CRD."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.rglob("*.yaml")):
        for crd in _load(path):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                # apiVersion/kind/metadata are checked by the API server itself; keep metadata open but typed.
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                found[(f"{group}/{version['name']}", kind)] = _strict(schema)
    return found


def validate(doc: dict[str, Any]) -> list[str]:
    """Error messages for one custom resource ([] when valid, one message when no vendored CRD serves it)."""
    schema = schemas().get((doc["apiVersion"], doc["kind"]))
    if schema is None:
        return [f"no vendored CRD serves {doc['apiVersion']} {doc['kind']}"]
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '.'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]
