"""Render deploy/k8s kustomizations without a kustomize binary.

The renderer knows the small part of kustomize the manifests use, and refuses anything else so that it cannot
silently disagree with `kubectl kustomize` (test_manifests compares the two when kubectl is installed):
`resources` (files, or directories holding a kustomization.yaml), `images` (newName/newTag/digest), and `patches`
given inline or by path, either JSON 6902 operations on a `target` (kind, name, namespace, labelSelector) or
strategic-merge documents made of maps only (a list in a strategic-merge patch would need kustomize's per-field
merge keys, so it is rejected: edit lists with JSON 6902 operations instead).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")

Doc = dict[str, Any]
_KNOWN_KEYS = {"apiVersion", "kind", "resources", "images", "patches"}


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_docs(path: Path) -> list[Doc]:
    return [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader) if d]


def render(directory: Path) -> list[Doc]:
    kustomization = yaml.load((directory / "kustomization.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    unknown = set(kustomization) - _KNOWN_KEYS
    if unknown:
        raise ValueError(f"{directory}: kustomization fields not supported by the test renderer: {sorted(unknown)}")
    docs: list[Doc] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        docs.extend(render(path) if path.is_dir() else load_docs(path))
    _check_unique(docs, directory)
    for patch in kustomization.get("patches", []):
        _apply_patch(docs, patch, directory)
    for image in kustomization.get("images", []):
        _set_image(docs, image)
    return docs


def resource_id(doc: Doc) -> tuple[str, str, str, str]:
    """(API group, kind, namespace, name): what kustomize requires to be unique."""
    meta = doc["metadata"]
    return doc["apiVersion"].rpartition("/")[0], doc["kind"], meta.get("namespace", ""), meta["name"]


def _check_unique(docs: list[Doc], where: Path) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for doc in docs:
        rid = resource_id(doc)
        if rid in seen:
            raise ValueError(f"{where}: {rid} defined twice")
        seen.add(rid)


def _matches(doc: Doc, target: dict[str, str]) -> bool:
    meta = doc["metadata"]
    if "kind" in target and doc["kind"] != target["kind"]:
        return False
    if "name" in target and meta["name"] != target["name"]:
        return False
    if "namespace" in target and meta.get("namespace") != target["namespace"]:
        return False
    for term in filter(None, target.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if meta.get("labels", {}).get(key.strip()) != value.strip():
            return False
    return True


def _apply_patch(docs: list[Doc], patch: dict[str, Any], directory: Path) -> None:
    text = (directory / patch["path"]).read_text(encoding="utf-8") if "path" in patch else patch["patch"]
    parsed = [d for d in yaml.safe_load_all(text) if d]
    if len(parsed) == 1 and isinstance(parsed[0], list):
        targets = [d for d in docs if _matches(d, patch["target"])]
        if not targets:
            raise ValueError(f"patch target {patch['target']} matches nothing")
        for doc in targets:
            for op in parsed[0]:
                _json6902(doc, op)
        return
    for smp in parsed:
        target = patch.get("target") or {"kind": smp["kind"], "name": smp["metadata"]["name"]}
        targets = [d for d in docs if _matches(d, target)]
        if not targets:
            raise ValueError(f"strategic-merge patch {target} matches nothing")
        for doc in targets:
            _merge_maps(doc, smp)


def _merge_maps(base: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, list) or (isinstance(key, str) and key.startswith("$")):
            raise ValueError(f"strategic-merge patch field {key!r}: lists and directives need JSON 6902 here")
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_maps(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def _json6902(doc: Doc, op: dict[str, Any]) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    parent: Any = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    kind = op["op"]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if kind == "add":
            parent.insert(index, copy.deepcopy(op["value"]))
        elif kind == "replace":
            parent[index] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[index]
        else:
            raise ValueError(f"JSON 6902 op {kind!r} not supported by the test renderer")
    elif kind in ("add", "replace"):
        if kind == "replace" and last not in parent:
            raise ValueError(f"replace of missing path {op['path']}")
        parent[last] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del parent[last]
    else:
        raise ValueError(f"JSON 6902 op {kind!r} not supported by the test renderer")


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _set_image(node: Any, rule: dict[str, str]) -> None:
    if isinstance(node, list):
        for item in node:
            _set_image(item, rule)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("containers", "initContainers") and isinstance(value, list):
            for container in value:
                if _image_name(container.get("image", "")) == rule["name"]:
                    container["image"] = _new_image(container["image"], rule)
        _set_image(value, rule)


def _new_image(image: str, rule: dict[str, str]) -> str:
    name = rule.get("newName", _image_name(image))
    if "digest" in rule:
        return f"{name}@{rule['digest']}"
    if "newTag" in rule:
        return f"{name}:{rule['newTag']}"
    return name + image[len(_image_name(image)):]
