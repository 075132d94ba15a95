"""The class's Zero to JupyterHub values file (deploy/z2jh/config.yaml) against the chart's schema.

Helm validates a release's values against the chart's `values.schema.json` before it renders
anything; this test does the same check without a cluster, with PyYAML and jsonschema, against the
chart's schema source (`values.schema.yaml`, Zero to JupyterHub at chart appVersion 5.5.0). The schema is
not copied into this repository: CI reads it from `../shared/reference/z2jh/`, and an instructor can
point `FACECOURSE_Z2JH_SCHEMA` at the file from the chart's repository (docs/classroom.md).

Helm checks the *merged* values (the chart's defaults plus this file), so the keys the schema
marks as required are supplied by the chart's own values.yaml; this file is partial by design.
The test therefore drops only the `required` lists and keeps every other rule: unknown keys
(additionalProperties: false, which catches typos), types, enums and patterns. Two tests prove
that the check bites (a misspelt key and a wrong type are both rejected).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from conftest import load_script

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "z2jh" / "config.yaml"
HUB_CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
class_sizing = load_script(ROOT / "tools" / "class_sizing.py")


def schema_path() -> Path | None:
    if os.environ.get("FACECOURSE_Z2JH_SCHEMA"):
        return Path(os.environ["FACECOURSE_Z2JH_SCHEMA"])
    shared = ROOT.parent / "shared" / "reference" / "z2jh" / "values.schema.yaml"
    return shared if shared.exists() else None


@pytest.fixture(scope="module")
def schema() -> dict:
    path = schema_path()
    if path is None:
        message = ("the Zero to JupyterHub values schema was not found: set FACECOURSE_Z2JH_SCHEMA to the "
                   "chart's jupyterhub/values.schema.yaml (docs/classroom.md, 'Past one server')")
        if os.environ.get("CI"):
            pytest.fail(message)          # CI always has it, beside the clone
        pytest.skip(message)
    return without_required(yaml.safe_load(path.read_text()))


def without_required(node):
    """The schema minus its `required` lists (the chart's defaults supply those keys)."""
    if isinstance(node, dict):
        return {k: without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [without_required(v) for v in node]
    return node


def errors(schema: dict, values: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(values)]


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_the_class_values_file_is_valid_for_the_chart(schema, values):
    assert errors(schema, values) == []


def test_a_misspelt_key_is_rejected(schema, values):
    broken = copy.deepcopy(values)
    broken["singleuser"]["memmory"] = broken["singleuser"].pop("memory")
    found = errors(schema, broken)
    assert any("memmory" in e for e in found), found


def test_a_wrong_type_is_rejected(schema, values):
    broken = copy.deepcopy(values)
    broken["singleuser"]["cpu"]["limit"] = "one core"
    found = errors(schema, broken)
    assert any(e.startswith("singleuser/cpu/limit") for e in found), found


def test_image_is_named_and_tagged(values):
    image = values["singleuser"]["image"]
    assert image["name"] and image["tag"]


def test_students_get_the_classroom_guides_folders(values):
    """The same variables as on a single server (docs/classroom.md 4a and the local hub's config)."""
    env = values["singleuser"]["extraEnv"]
    assert env["FACECOURSE_CACHE_DIR"] == "~/.facecourse-cache"
    assert env["FACECOURSE_MY_IMAGES"] == "~/my_images"
    hub_config = HUB_CONFIG.read_text()
    for key in ("FACECOURSE_IMAGE_DIR", "FACECOURSE_CACHE_DIR", "FACECOURSE_MY_IMAGES", "FACECOURSE_CLASS_CACHE"):
        assert key in env, key
        assert key in hub_config, key


def test_shared_data_is_mounted_read_only_where_the_variables_point(values):
    storage = values["singleuser"]["storage"]
    env = values["singleuser"]["extraEnv"]
    mounts = {m["mountPath"]: m for m in storage["extraVolumeMounts"]}
    for key in ("FACECOURSE_IMAGE_DIR", "FACECOURSE_CLASS_CACHE"):
        assert env[key] in mounts, f"{key}={env[key]} is not a mounted volume"
        assert mounts[env[key]]["readOnly"] is True
    for volume in storage["extraVolumes"]:
        assert volume["persistentVolumeClaim"]["readOnly"] is True


def test_one_core_and_at_least_one_gib_per_student(values):
    """The budget every lesson is held to in CI (one core, a 1 GiB kernel) must fit in the limits."""
    cpu, memory = values["singleuser"]["cpu"], values["singleuser"]["memory"]
    assert cpu["limit"] >= 1
    assert to_bytes(memory["limit"]) >= 2**30
    assert to_bytes(memory["guarantee"]) <= to_bytes(memory["limit"])


def test_idle_servers_are_culled(values):
    assert values["cull"]["enabled"] is True
    assert 0 < values["cull"]["timeout"] <= 4 * 3600


def to_bytes(quantity) -> float:
    """A Kubernetes memory quantity in bytes: the sizing script's own parser, so both agree."""
    return class_sizing.quantity_bytes(quantity)


def test_to_bytes():
    assert to_bytes("1Gi") == 2**30
    assert to_bytes("1.25G") == 1.25e9
    assert to_bytes("768M") == 768e6
    assert to_bytes(5) == 5.0
