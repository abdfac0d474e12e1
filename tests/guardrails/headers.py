"""Security headers every HTML response must carry."""

import re

_INLINE = re.compile(r"<(script|style)\b(?![^>]*\bsrc=)([^>]*)>", re.I)


def header_problems(headers: dict, html: str = "") -> list[str]:
    """CSP (no unsafe-inline, frame-ancestors 'none', inline tags nonce'd), nosniff, referrer."""
    problems = []
    csp = headers.get("Content-Security-Policy", "")
    directives = {
        part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()
    }
    if not csp:
        problems.append("no Content-Security-Policy")
    else:
        script_src = directives.get("script-src", "")
        if "'unsafe-inline'" in script_src or "'unsafe-eval'" in script_src:
            problems.append("script-src allows unsafe-inline or unsafe-eval")
        if directives.get("frame-ancestors") != "frame-ancestors 'none'":
            problems.append("frame-ancestors is not 'none'")
        if directives.get("object-src") != "object-src 'none'":
            problems.append("object-src is not 'none'")
        nonces = set(re.findall(r"'nonce-([^']+)'", csp))
        for tag, attrs in _INLINE.findall(html):
            if 'type="application/json"' in attrs:
                continue  # data, never executed
            nonce = re.search(r'nonce="([^"]+)"', attrs)
            if not nonce or nonce.group(1) not in nonces:
                problems.append(f"inline <{tag}{attrs}> without this response's nonce")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if not headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    return problems
