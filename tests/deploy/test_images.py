"""The image recipe checked statically, in seconds (part of `make test`).

Building the images (`make images`, deploy/images/build.sh) takes 3 to 14 minutes here and needs root, buildah,
debootstrap and the Debian mirror, and the smoke run (deploy/images/smoke.sh) about 13 minutes more, so neither runs in
`make test` (deploy/README.md "What runs where"). What can break an image without a build is checked here instead:
the scripts parse, each component's project is found by the build's wheel names, every file its package needs at run
time ships in its wheel, the image's command, user, port and paths are the ones the manifests expect, and both recipes
(build.sh and the Dockerfile) agree.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "deploy" / "images" / "build.sh"
SMOKE = REPO / "deploy" / "images" / "smoke.sh"
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
LIBS = ("libs/fupin_kit", "libs/fupin_events", "libs/fupin_ops")  # in every image (build.sh step 4, Dockerfile)
COMMAND = 'exec uvicorn "${FUPIN_APP_MODULE}:app" --host 0.0.0.0 --port 8080 --timeout-keep-alive 75'


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generator = _load("fupin_k8s_generate_images", REPO / "deploy" / "k8s" / "generate.py")
COMPONENTS = generator.COMPONENTS
components = pytest.mark.parametrize("c", COMPONENTS, ids=[c.name for c in COMPONENTS])


def pyproject(folder: str) -> dict[str, Any]:
    return tomllib.loads((REPO / folder / "pyproject.toml").read_text(encoding="utf-8"))


def requirement_names(project: dict[str, Any]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in project["project"].get("dependencies", [])}


@pytest.mark.parametrize("script", [BUILD, SMOKE], ids=["build.sh", "smoke.sh"])
def test_image_scripts_parse(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "set -euo pipefail" in script.read_text(encoding="utf-8")


@components
def test_each_component_is_found_by_the_build(c: Any) -> None:
    """build.sh picks `fupin_<c>-*.whl`, runs `<c>.main:app` and copies alembic.ini + migrations/."""
    folder = REPO / c.folder
    project = pyproject(c.folder)
    assert project["project"]["name"] == f"fupin-{c.name}", "build.sh copies the wheel fupin_<component>-*.whl"
    main = folder / "src" / c.name / "main.py"
    assert main.is_file() and re.search(r"^app\b.*=", main.read_text(encoding="utf-8"), re.M), \
        f"the image runs {c.name}.main:app"
    ini = (folder / "alembic.ini").read_text(encoding="utf-8")
    # %(here)s: the migration Job finds migrations/ next to /app/<folder>/alembic.ini, whatever its working directory
    assert re.search(r"^script_location\s*=\s*%\(here\)s/migrations\s*$", ini, re.M), ini
    assert (folder / "migrations" / "env.py").is_file() and any((folder / "migrations" / "versions").glob("*.py"))
    # nothing of the developers' tools in an image (fupin-dev is never installed there)
    assert not requirement_names(project) & {"fupin-dev", "pytest"}


@pytest.mark.parametrize("folder", [*LIBS, *(c.folder for c in COMPONENTS)])
def test_every_package_file_ships_in_the_wheel(folder: str) -> None:
    """setuptools puts only .py files (and py.typed) in a wheel unless `package-data` names the others: a page, a
    template or a data file left out works in dev (editable install) and is missing in the image."""
    src = REPO / folder / "src"
    data = pyproject(folder).get("tool", {}).get("setuptools", {}).get("package-data", {})
    covered: set[Path] = set()
    for package, patterns in data.items():
        roots = [p for p in src.iterdir() if p.is_dir()] if package == "*" else [src / package.replace(".", "/")]
        covered |= {f for root in roots for pattern in patterns for f in root.glob(pattern) if f.is_file()}
    files = [f for f in src.rglob("*") if f.is_file() and "__pycache__" not in f.parts
             and not any(p.endswith(".egg-info") for p in f.parts)]
    missing = [str(f.relative_to(src)) for f in files
               if f.suffix not in {".py", ".pyc"} and f.name != "py.typed" and f not in covered]
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {missing}"


def test_build_and_dockerfile_make_the_same_image() -> None:
    build = BUILD.read_text(encoding="utf-8")
    docker = DOCKERFILE.read_text(encoding="utf-8")
    # the same packages: the three libraries and the component
    for lib in LIBS:
        assert lib in build and lib in docker, lib
        wheel = lib.removeprefix("libs/")
        assert f'"$WHEELS"/{wheel}-*.whl' in build, f"build.sh installs {wheel} in every image"
    assert '"$WHEELS/fupin_${c}-"*.whl' in build
    # the same command, user, port, module and home
    cmd = re.search(r"--cmd '(\[.*\])'", build)
    assert cmd and COMMAND.replace('"', '\\"') in cmd.group(1)
    assert re.search(r'^CMD \["sh", "-c", "' + re.escape(COMMAND.replace('"', '\\"')) + r'"\]$', docker, re.M)
    assert "--user 10001:10001" in build and re.search(r"^USER 10001:10001$", docker, re.M)
    assert "--port 8080" in build and re.search(r"^EXPOSE 8080$", docker, re.M)
    assert 'FUPIN_APP_MODULE="$c.main"' in build and "FUPIN_APP_MODULE=${COMPONENT}.main" in docker
    assert "--env HOME=/tmp" in build and "HOME=/tmp" in docker
    # alembic.ini and migrations/ at /app/<folder>, as in the repository
    assert 'cp -r "$REPO/$folder/alembic.ini" "$REPO/$folder/migrations" "$mnt/app/$folder/"' in build
    assert 'cp -r "/src/${folder}/alembic.ini" "/src/${folder}/migrations" "/app/${folder}/"' in docker
    # the build's component folder rule equals the generator's
    assert "if [[ $1 == gateway ]]; then echo gateway; else echo \"services/$1\"; fi" in build


@components
def test_the_manifests_run_what_the_image_holds(c: Any) -> None:
    deployment = generator.app_deployment(c)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "command" not in container and "args" not in container, "the image's CMD runs the app"
    assert [p["containerPort"] for p in container["ports"]] == [8080]
    assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["runAsGroup"] == 10001
    # a read-only root filesystem: HOME=/tmp (the image's) is the emptyDir
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    job = generator.migration_job(c)
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["alembic", "-c", f"/app/{c.folder}/alembic.ini", "upgrade", "head"]
    assert migrate["workingDir"] == f"/app/{c.folder}"
    # the console scripts the manifests and the runbook call are installed in the image's virtualenv
    assert "alembic" in requirement_names(pyproject("libs/fupin_kit"))


def test_the_operator_tool_is_in_every_image() -> None:
    """deploy/README.md "DLQ replay" runs `fupin-dlq` from any component's image."""
    ops = pyproject("libs/fupin_ops")
    assert ops["project"]["scripts"]["fupin-dlq"] == "fupin_ops.dlq:app"
    assert not requirement_names(ops) - {"fupin-kit", "fupin-events", "aiokafka", "typer", "rich"}, \
        "fupin-ops stays small: it rides in every image"
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    pod = re.search(r"```yaml\n(apiVersion: v1\nkind: Pod\n.*?)```", readme, re.S)
    assert pod, "the runbook's fupin-dlq pod"
    assert 'command: ["fupin-dlq", "list"]' in pod.group(1)
