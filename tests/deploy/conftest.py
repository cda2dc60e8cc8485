"""Fixtures of the deploy suite."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


@pytest.fixture(scope="session")
def k8s_generator() -> ModuleType:
    """`deploy/k8s/generate.py`, loaded by path (deploy/ is no package), once per run."""
    name = "fupin_k8s_generate_fixture"
    spec = importlib.util.spec_from_file_location(name, K8S / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
