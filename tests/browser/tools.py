"""Where the browser checks' tools are, and what happens when one is missing.

A missing tool skips the checks on a developer's machine, loudly, with the
reason and the fix; in CI (`CI` set) it fails them, so that a gate that did
not run is never counted as passed.
"""

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Installed by `make setup` (npm ci, from package.json and package-lock.json).
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The system's Chromium: Playwright's own browser download cannot be used here.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NPM_FIX = (
    "run `make setup`, which runs `npm ci` when npm is installed (Debian: apt-get install npm)"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(tool: str, fix: str):
    """Skip (developer machine) or fail (CI) the test that needs `tool`."""
    reason = f"{tool} is missing: {fix}"
    if in_ci():
        pytest.fail(
            f"CI={os.environ['CI']} and {reason}. In CI a browser check that cannot run fails.",
            pytrace=False,
        )
    pytest.skip(reason)


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


def chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return missing(
        "Chromium (/usr/bin/chromium)",
        "install the system browser (Debian: apt-get install chromium); never `playwright install`",
    )


def axe_js() -> Path:
    if not AXE_JS.is_file():
        missing(f"axe-core ({_shown(AXE_JS)})", NPM_FIX)
    return AXE_JS


def java() -> str:
    found = shutil.which("java")
    if not found:
        missing(
            "Java (`java` on PATH, which runs the Nu HTML Checker)",
            "install a Java 11+ runtime (Debian: apt-get install default-jre-headless)",
        )
    return found


def vnu_jar() -> Path:
    if not VNU_JAR.is_file():
        missing(f"the Nu HTML Checker ({_shown(VNU_JAR)})", NPM_FIX)
    return VNU_JAR
