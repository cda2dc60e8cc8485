"""Schema snapshots per topic version, and the check that a change does not break an existing consumer.

`python -m fupin_events.compat --write` stores the current JSON Schema of every topic's payload under
`schemas/<topic>.v<version>.json` (only for versions that have no snapshot yet). A change that removes or retypes a
field of a snapshotted version is refused by the test suite: give the topic a new `version` instead.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from fupin_events.topics import TOPICS, Topic

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def snapshot_path(t: Topic) -> Path:
    return SCHEMAS / f"{t.name}.v{t.version}.json"


def current_schema(t: Topic) -> dict[str, Any]:
    return t.payload.model_json_schema()


def breaking_changes(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """What a consumer written against `old` would no longer find in `new`: removed fields, changed types,
    fields that became optional (a consumer may rely on them being present), narrower enumerations."""
    problems: list[str] = []
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    for name, old_prop in old.get("properties", {}).items():
        path = f"{where}.{name}" if where else name
        new_prop = new.get("properties", {}).get(name)
        if new_prop is None:
            problems.append(f"{path}: removed")
            continue
        if name in old_req and name not in new_req:
            problems.append(f"{path}: no longer required")
        problems += _compare(_resolve(old_prop, old_defs), _resolve(new_prop, new_defs), path, old_defs, new_defs)
    return problems


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    return defs[ref.rsplit("/", 1)[-1]] if ref else prop


def _types(prop: dict[str, Any]) -> set[str]:
    if "anyOf" in prop:
        return set().union(*(_types(p) for p in prop["anyOf"]))
    if "enum" in prop:
        return {f"enum:{v}" for v in prop["enum"]}
    if "const" in prop:
        return {f"enum:{prop['const']}"}
    return {str(prop.get("type", "object"))}


def _compare(old: dict[str, Any], new: dict[str, Any], path: str,
             old_defs: dict[str, Any], new_defs: dict[str, Any]) -> list[str]:
    if "properties" in old:
        return breaking_changes({**old, "$defs": old_defs}, {**new, "$defs": new_defs}, path)
    if old.get("type") == "array" and "items" in old:
        return _compare(_resolve(old["items"], old_defs), _resolve(new.get("items", {}), new_defs), f"{path}[]",
                        old_defs, new_defs)
    old_t, new_t = _types(old), _types(new)
    if not old_t <= new_t:
        return [f"{path}: type {sorted(old_t)} became {sorted(new_t)}"]
    return []


def write_missing() -> list[Path]:
    SCHEMAS.mkdir(exist_ok=True)
    written = []
    for t in TOPICS:
        path = snapshot_path(t)
        if not path.exists():
            path.write_text(json.dumps(current_schema(t), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="store snapshots for versions that have none")
    args = parser.parse_args()
    if args.write:
        for path in write_missing():
            print(f"wrote {path}")
    for t in TOPICS:
        path = snapshot_path(t)
        if path.exists():
            problems = breaking_changes(json.loads(path.read_text()), current_schema(t))
            print(f"{t.name} v{t.version}: {'; '.join(problems) or 'compatible'}")
        else:
            print(f"{t.name} v{t.version}: no snapshot (run with --write)")


if __name__ == "__main__":
    main()
