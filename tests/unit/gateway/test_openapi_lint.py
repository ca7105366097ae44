"""An independent linter agrees the OpenAPI document is well made: Redocly CLI, pinned in
package.json and installed into ./node_modules by `make install` (`npm ci`), with its
`recommended` rules as redocly.yaml configures them. Errors and warnings both fail; so does a
linter that cannot run (nothing is skipped: run `make install`)."""

import json
import os
import subprocess
from pathlib import Path

from gateway import openapi
from gateway.routes import ROUTES

ROOT = Path(__file__).resolve().parents[3]
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"


def test_redocly_recommended_rules_find_nothing_in_the_openapi_document(tmp_path):
    assert REDOCLY.exists(), f"{REDOCLY} is missing: `make install` installs it (npm ci)"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi.build(ROUTES), ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [str(REDOCLY), "lint", "--config", str(ROOT / "redocly.yaml"), "--format", "stylish", str(document)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in result.stdout.lower(), output  # a warning is a finding too
    assert "is valid" in output, output
