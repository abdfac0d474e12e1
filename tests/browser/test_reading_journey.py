"""A member reports a month's figures and sees the pooled value and run chart move."""

import pytest
from playwright.sync_api import expect

from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_reports_a_reading_and_the_chart_moves(page, console, live_server, member):
    slug, measure = member.alliance.slug, member.measure
    main = page.locator("main")
    page.goto("/accounts/login/")
    main.locator("input[name=login]").fill(member.member.email)
    main.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        main.get_by_role("button", name="Sign in").click()

    page.goto(f"/{slug}/workgroups/{member.workgroup.slug}/")
    chart = main.locator("figure svg").first
    expect(chart).to_be_visible()
    points_before = chart.locator(".rc-point, .rc-signal").count()

    page.goto(f"/{slug}/measures/{measure.pk}/")
    november = main.locator("tr", has_text="Nov 2020")
    expect(november.locator("td").first).to_have_text("Missing")
    with page.expect_navigation():
        main.get_by_role("link", name="Report data").click()

    main.get_by_label("Period").select_option(label="Nov 2020")
    main.get_by_label("Recordable injuries").fill("1")
    main.get_by_label("Hours worked").fill("50000")
    with page.expect_navigation():
        main.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Nov 2020")

    # 1 case × 200,000 ÷ 50,000 hours = 4.0, pooled (the only reporter).
    page.goto(f"/{slug}/measures/{measure.pk}/")
    expect(main.locator("tr", has_text="Nov 2020").locator("td").first).to_have_text("4.0")
    page.goto(f"/{slug}/workgroups/{member.workgroup.slug}/")
    expect(main.locator("figure svg").first.locator(".rc-point, .rc-signal")).to_have_count(
        points_before + 1
    )
    assert console.problems == []
