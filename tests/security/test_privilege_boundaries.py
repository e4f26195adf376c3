"""Account administration against privileged and real targets, judged by the effect.

The matrix (test_access_matrix.py) aims the user routes at one ordinary clerk of each agency. Here every
administrator (and a clerk) of each agency tries to reset the password of, lock, and strip the roles of:
a system administrator, an agency administrator of each agency and a clerk of each agency. Whether the
change happened is read back (the new password signs in or not; the row's state and roles), not only the
status code. The rule (AccessPolicy.canManageAccount): an actor changes only accounts of agencies whose
users it manages and whose every role it could grant; nobody changes their own roles.
"""

from __future__ import annotations

import secsupport as s

TARGETS = {
    # name: (agency, role)
    "sec.g22.priv.sysadmin": (s.G22, "system_admin"),
    "sec.g22.priv.admin": (s.G22, "agency_admin"),
    "sec.h41.priv.admin": (s.H41, "agency_admin"),
    "sec.g22.priv.clerk": (s.G22, "clerk"),
    "sec.h41.priv.clerk": (s.H41, "clerk"),
}
ACTORS = [("system_admin", s.G22), ("agency_admin", s.G22), ("agency_admin", s.H41), ("clerk", s.G22)]


def allowed(actor_role: str, actor_agency: str, target_agency: str, target_role: str) -> bool:
    if actor_role == "system_admin":
        return True
    if actor_role == "agency_admin":
        return actor_agency == target_agency and target_role != "system_admin"
    return False


def _make_targets(world) -> dict[str, str]:
    ids = {}
    for name, (agency, role) in TARGETS.items():
        resp = world.admin.post("/admin/users", form={"username": name, "full_name": f"Đích {name}",
                                                      "agency_code": agency, "roles": role,
                                                      "password": s.PASSWORD, "_csrf": world.admin_token})
        assert resp.status == 303, resp
        ids[name] = resp.header("location").rsplit("/", 1)[1]
    return ids


def _row(world, name: str) -> tuple:
    with world.db() as db:
        return db.execute("SELECT password_hash, state, roles FROM users WHERE username = ?", (name,)).fetchone()


def _signs_in(world, name: str, password: str) -> bool:
    c = s.Client(world.port, f"probe-{name}")
    try:
        return c.login(name, password).status == 303
    finally:
        c.close()


def test_account_changes_follow_the_roles_the_actor_could_grant(world, server_alive):
    ids = _make_targets(world)
    passwords = {name: s.PASSWORD for name in TARGETS}
    problems = []
    for n, (role, agency) in enumerate(ACTORS):
        actor = s.Client(world.port, f"actor-{role}-{agency}")
        resp = actor.login(world.users[(role, agency)], s.PASSWORD)
        assert resp.status == 303, resp
        token = actor.csrf("/")
        for name, (target_agency, target_role) in TARGETS.items():
            expect = allowed(role, agency, target_agency, target_role)
            who = f"{role}@{agency} -> {name}"
            before = _row(world, name)
            # 1. Password reset: the new password must sign in exactly when the change was allowed.
            new = f"Doi-{n}-{name[-5:]}-2026x"
            resp = actor.post(f"/admin/users/{ids[name]}/password", form={"password": new, "_csrf": token})
            if resp.status >= 500:
                problems.append(f"{who}: reset answered {resp.status}")
            changed = _row(world, name)[0] != before[0]
            if changed != expect or (resp.status in (401, 403)) == expect:
                problems.append(f"{who}: reset allowed={expect} but status {resp.status}, hash changed={changed}")
            if changed:
                passwords[name] = new
            if _signs_in(world, name, new) != expect:
                problems.append(f"{who}: after the reset the new password signs in={not expect}")
            # 2. Lock, and 3. strip the roles: the row must stay as it was when refused.
            for label, form in (("lock", {"state": "locked", "roles": target_role}),
                                ("strip roles", {"state": "active", "roles": "citizen"})):
                before = _row(world, name)
                resp = actor.post(f"/admin/users/{ids[name]}", form={**form, "full_name": f"Đích {name}",
                                                                    "_csrf": token})
                after = _row(world, name)
                if resp.status >= 500:
                    problems.append(f"{who}: {label} answered {resp.status}")
                if not expect and (after[1:] != before[1:] or resp.status not in (403, 404)):
                    problems.append(f"{who}: {label} refused expected, got {resp.status}, row {before[1:]} -> {after[1:]}")
                if expect and after[1:] == before[1:]:
                    problems.append(f"{who}: {label} allowed but nothing changed ({resp.status})")
                # Put an allowed change back (as the system admin) so the next actor meets the same account.
                if after[1:] != before[1:]:
                    resp = world.admin.post(f"/admin/users/{ids[name]}", form={
                        "full_name": f"Đích {name}", "roles": target_role, "state": "active", "_csrf": world.admin_token})
                    assert resp.status == 303, resp
        actor.close()
    assert not problems, "\n".join(problems)
    # The target system admin still opens with the last password set by someone allowed to set it.
    assert _signs_in(world, "sec.g22.priv.sysadmin", passwords["sec.g22.priv.sysadmin"])


def test_nobody_changes_their_own_roles(world, server_alive):
    c = s.Client(world.port, "own-roles")
    username = world.users[("agency_admin", s.H41)]
    assert c.login(username, s.PASSWORD).status == 303
    token = c.csrf("/")
    with world.db() as db:
        uid = db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()[0]
    import conftest
    uid = str(conftest._as_uuid(uid))
    resp = c.post(f"/admin/users/{uid}", form={"full_name": "Tự nâng quyền", "roles[]": ["agency_admin", "leader"],
                                               "state": "active", "_csrf": token})
    assert resp.status == 403 and s.error_code(resp) == "cannot_change_own_roles", resp
    assert "leader" not in str(_row(world, username)[2])
    c.close()
