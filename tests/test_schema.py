"""`bzzzmon schema`: a valid JSON Schema that accepts the shipped spec and rejects typos."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import run_cli
from tests.shipped import SHIPPED_SPECS


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_schema_is_valid(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["apiVersion"]["const"] == "bzzzmon/v1"


@pytest.mark.parametrize(
    "path",
    sorted(SHIPPED_SPECS.rglob("*.yaml")),
    ids=lambda p: p.relative_to(SHIPPED_SPECS).as_posix(),
)
def test_shipped_spec_validates(schema: dict[str, Any], path: Any) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_schema_rejects_unknown_keys(schema: dict[str, Any]) -> None:
    doc = {"apiVersion": "bzzzmon/v1", "service": {"name": "x", "nmae": "y"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
