"""Drives the simulated org with Okta's official Python SDK, whose generated models are strict.

Usage: OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true python3 okta_python_sdk.py BASE_URL API_TOKEN
(the simulator speaks plain HTTP on loopback; the SDK insists on https unless told it is testing)
Prints one line per check and exits non-zero on the first failure.
"""
import asyncio
import sys

from okta.client import Client as OktaClient
from okta.pagination import PaginationHelper


async def main(base_url, token):
    config = {
        "orgUrl": base_url,
        # SDK 3.4 builds its header as authorizationMode + token with no space ("SSWS<token>") on
        # some code paths; a leading space makes every path send "SSWS <token>".
        "token": " " + token,
        "rateLimit": {"maxRetries": 1},
    }
    client = OktaClient(config)
    checks = 0

    def check(cond, what):
        nonlocal checks
        if not cond:
            raise SystemExit(f"FAILED: {what}")
        checks += 1
        print(f"ok: {what}")

    users, resp, err = await client.list_users(limit=2)
    check(err is None, f"list_users: {err}")
    check(len(users) == 2, "list_users returns a page of 2")
    all_users, after = [], None
    for _ in range(100):
        page, page_resp, err = await client.list_users(limit=3, after=after)
        check(err is None, f"list_users page: {err}")
        all_users += page
        after = PaginationHelper.extract_next_cursor(page_resp.headers)
        if not after:
            break
    ids = {u.id for u in all_users}
    check(len(all_users) > 3, f"paginate_all follows next links ({len(all_users)} users)")
    check(len(ids) == len(all_users), "no user is listed twice across pages")

    user, _, err = await client.get_user(users[0].id)
    check(err is None and user.id == users[0].id, f"get_user: {err}")
    by_login, _, err = await client.get_user(users[0].profile.login)
    check(err is None and by_login.id == users[0].id, f"get_user by login: {err}")

    groups, _, err = await client.list_groups()
    check(err is None and len(groups) > 0, f"list_groups: {err}")
    apps, _, err = await client.list_applications()
    check(err is None and len(apps) > 0, f"list_applications: {err}")
    events, _, err = await client.list_log_events(limit=5)
    check(err is None and len(events) == 5, f"list_log_events: {err}")

    _, _, err = await client.get_user("00unobodyhere0000000")
    check(err is not None and "E0000007" in str(err), f"404 surfaces as an Okta error: {err}")
    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
