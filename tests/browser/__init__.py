"""Browser guardrails: Playwright on the system Chromium, axe-core, the Nu HTML Checker."""
