"""Drives the simulated org with Okta's official Python SDK, whose generated models are strict.

Usage: OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true python3 okta_python_sdk.py BASE_URL API_TOKEN
(the simulator speaks plain HTTP on loopback; the SDK insists on https unless told it is testing)
Prints one line per check and exits non-zero on the first failure.
"""
import asyncio
import sys

from okta.client import Client as OktaClient
from okta.models import CreateUserRequest
from okta.pagination import PaginationHelper


async def call(request):
    """The SDK returns (data, response, error), or (response, error) for operations without a
    model in their answer; this gives (data or None, error) for both."""
    result = await request
    return (result[0] if len(result) == 3 else None), result[-1]


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

    user, err = await call(client.get_user(users[0].id))
    check(err is None and user.id == users[0].id, f"get_user: {err}")
    by_login, err = await call(client.get_user(users[0].profile.login))
    check(err is None and by_login.id == users[0].id, f"get_user by login: {err}")

    groups, err = await call(client.list_groups())
    check(err is None and len(groups) > 0, f"list_groups: {err}")
    apps, err = await call(client.list_applications())
    check(err is None and len(apps) > 0, f"list_applications: {err}")
    events, err = await call(client.list_log_events(limit=5))
    check(err is None and len(events) == 5, f"list_log_events: {err}")

    # The user lifecycle through the SDK's typed models.
    body = CreateUserRequest.from_dict({
        "profile": {"firstName": "Sdk", "lastName": "Check", "email": "sdk.check@example.com",
                    "login": "sdk.check@example.com", "employeeId": "E777777"},
        "credentials": {"password": {"value": "Tr0ub4dor-Horse-77"}},
    })
    created, err = await call(client.create_user(body, activate=False))
    check(err is None and created.status == "STAGED", f"create_user staged: {err}")
    token, err = await call(client.activate_user(created.id, send_email=False))
    check(err is None and token.activation_url, f"activate_user returns the activation URL: {err}")
    _, err = await call(client.suspend_user(created.id))
    check(err is None, f"suspend_user: {err}")
    _, err = await call(client.suspend_user(created.id))
    check(err is not None and "E0000038" in str(err), f"suspending twice is refused: {err}")
    _, err = await call(client.unsuspend_user(created.id))
    check(err is None, f"unsuspend_user: {err}")
    fetched, err = await call(client.get_user(created.id))
    check(err is None and fetched.status == "ACTIVE", f"status after unsuspend: {err}")

    group = groups[-1]
    _, err = await call(client.assign_user_to_group(group.id, created.id))
    check(err is None, f"assign_user_to_group: {err}")
    members, err = await call(client.list_group_users(group.id, limit=1000))
    check(err is None and created.id in {m.id for m in members}, f"list_group_users: {err}")
    user_groups, err = await call(client.list_user_groups(created.id))
    check(err is None and group.id in {g.id for g in user_groups}, f"list_user_groups: {err}")

    _, err = await call(client.deactivate_user(created.id))
    check(err is None, f"deactivate_user: {err}")
    _, err = await call(client.delete_user(created.id))
    check(err is None, f"delete_user: {err}")

    for app in apps:
        app_users, err = await call(client.list_application_users(app.id))
        check(err is None, f"list_application_users of {app.label}: {err}")
        app_groups, err = await call(client.list_application_group_assignments(app.id))
        check(err is None, f"list_application_group_assignments of {app.label}: {err}")

    types, err = await call(client.list_user_types())
    check(err is None and len(types) >= 1, f"list_user_types: {err}")

    _, err = await call(client.get_user("00unobodyhere0000000"))
    check(err is not None and "E0000007" in str(err), f"404 surfaces as an Okta error: {err}")
    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
