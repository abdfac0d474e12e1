"""Each guardrail, shown a planted defect, must report it: a check that cannot
fail proves nothing."""

import pytest

from . import tools

BROKEN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Planted defects</title></head>
<body><main>
  <h1>Planted defects</h1>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <input type="text" name="unlabelled">
</main></body>
</html>"""

INVALID_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"></head>
<body><main><p>Stray end tag</span><img src="x.png"></main></body>
</html>"""

VALID_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Fine</title></head>
<body><main><p>Nothing wrong here.</p></main></body>
</html>"""

CSP_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta http-equiv="Content-Security-Policy" content="script-src 'self'; style-src 'self'">
<title>Blocked inline script</title></head>
<body><script>document.title = "ran";</script><p style="color: red">styled</p></body>
</html>"""


def test_axe_check_reports_planted_violations(audit_page, axe):
    page = audit_page()
    page.set_content(BROKEN_PAGE)
    violations = axe(page)
    assert any(" axe image-alt " in line and "img" in line for line in violations), violations
    assert any(" axe label " in line and "input" in line for line in violations), violations


def test_vnu_check_reports_planted_errors(vnu):
    errors = vnu({"invalid": INVALID_HTML, "valid": VALID_HTML})
    assert errors, "the Nu HTML Checker passed a page with a missing <title> and a stray end tag"
    assert all(line.startswith("invalid:") for line in errors), errors
    assert any("title" in line for line in errors), errors
    assert any("Stray end tag" in line for line in errors), errors


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (CSP_PAGE, "Content Security Policy"),
        ("<script>throw new Error('planted failure')</script>", "planted failure"),
    ],
    ids=["csp-violation", "uncaught-exception"],
)
def test_console_watch_reports_planted_errors(browser, console, content, expected):
    context = browser.new_context()
    page = console.attach(context.new_page())
    page.set_content(content)
    page.wait_for_load_state("load")
    context.close()
    assert any(expected in problem for problem in console.problems), console.problems


def test_missing_tool_skips_on_a_developer_machine_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(tools, "AXE_JS", tmp_path / "axe.min.js")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"axe-core .* is missing: run `make setup`"):
        tools.axe_js()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and axe-core"):
        tools.axe_js()
