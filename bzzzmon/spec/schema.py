"""The JSON Schema of a spec file, generated from the wire models."""

from __future__ import annotations

import json
from typing import Any

from bzzzmon.spec.wire import SpecFile

SCHEMA_ID = "https://bzzzmon.dev/schema/bzzzmon-v1.json"


def spec_schema() -> dict[str, Any]:
    body = SpecFile.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "bzzzmon spec file (apiVersion bzzzmon/v1)",
        **{k: v for k, v in body.items() if k != "title"},
    }


def schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
