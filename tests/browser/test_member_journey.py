"""A member's visit in a real browser, with the portal's CSP enforced."""

import pytest
from playwright.sync_api import expect

from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_signs_in_sees_alliance_home_and_signs_out(page, console, live_server, member):
    alliance = member.alliance
    header, main = page.locator("header"), page.locator("main")

    page.goto("/accounts/login/")
    # Scoped to <main>: the navbar has a submit button of its own.
    main.locator("input[name=login]").fill(member.member.email)
    main.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        main.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    menu = header.get_by_role("button", name=member.member.full_name)
    expect(menu).to_be_visible()

    main.get_by_role("link", name=alliance.name).click()
    expect(page).to_have_url(f"{live_server.url}/{alliance.slug}/")
    expect(main.get_by_role("heading", level=1)).to_have_text(alliance.name)
    expect(main).to_contain_text(member.program_year.name)

    menu.click()
    with page.expect_navigation():
        header.get_by_role("button", name="Sign out").click()
    expect(header.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"/{alliance.slug}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/{alliance.slug}/")
    expect(main).not_to_contain_text(alliance.name)

    assert console.problems == []
