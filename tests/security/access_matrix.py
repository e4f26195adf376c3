"""The declared access table: every route of `govoffice routes`, who may use it, and whether the
object it acts on belongs to an agency.

test_access_matrix.py FAILS when `govoffice routes` lists a route this table does not classify,
so every new subsystem adds its routes here (and a request for them: `target`, `body`).

Who (`access`):
  PUBLIC        anyone, signed in or not (pages, the public directory, operations endpoints)
  SIGNED_IN     any signed-in person; anonymous: 303 to /login (GET page) or 401
  SYSTEM_ADMIN  users with the system_admin role; other people 403; anonymous 303/401
  AGENCY_ADMIN  system admins for every agency; agency admins for their own agency only; others 403
  HUB_ADMIN     like AGENCY_ADMIN, the agency being the one the hub object involves (acting: redeliver)
  HUB_VIEW      looking at the hub's traffic: like HUB_ADMIN, and also the agency's clerks (văn thư)
                for their own agency (AccessPolicy.canViewExchange)
  SYSTEM        agency systems by API key (X-SystemId + X-SecretKey); people and anonymous 401
  CALENDAR_VIEW the agency's staff in any staff role (AccessPolicy.canViewCalendar); citizen and
                business accounts 403 even when bound to an agency; a system admin only as a member
                of their own agency; anonymous 303/401. Unscoped routes act on the caller's agency.
  CALENDAR_EDIT the agency's clerks, leaders and agency admin (AccessPolicy.canManageCalendar);
                other staff, the public and system admins by that role alone 403
`scoped`: the object belongs to an agency (path id or `agency` parameter). A principal of another
agency is refused with a status from `deny_other` (403, or 404 where the server hides that the
object exists: hub messages, deliveries, webhooks).

`target` names the fixture that gives the path parameter / query for a target agency
(conftest.World.targets[target][agency]); `body` names the request body factory in
test_access_matrix.BODIES. Bodies are chosen so that an allowed call is harmless (no lock, no
session lost; invalid input where the change itself would hurt) while still passing the
authorization check; a refused call must change nothing anyway.
"""

from dataclasses import dataclass, field

ROLES = ["system_admin", "agency_admin", "clerk", "leader", "specialist", "cabinet_member",
         "reporting_officer", "citizen", "business"]

PUBLIC, SIGNED_IN, SYSTEM_ADMIN, AGENCY_ADMIN, HUB_ADMIN, HUB_VIEW, SYSTEM = (
    "public", "signed_in", "system_admin", "agency_admin", "hub_admin", "hub_view", "system")
# The document office: staff of an agency with one of these roles; a system administrator without
# such a role has no office (there is no "all agencies" office).
OFFICE, OFFICE_CLERK, OFFICE_LEADER, OFFICE_RECORDS = "office", "office_clerk", "office_leader", "office_records"
OFFICE_ROLES = {OFFICE: {"clerk", "leader", "specialist"}, OFFICE_CLERK: {"clerk"}, OFFICE_LEADER: {"leader"},
                OFFICE_RECORDS: {"clerk", "leader"}}
CALENDAR_VIEW, CALENDAR_EDIT = "calendar_view", "calendar_edit"


@dataclass(frozen=True)
class Route:
    method: str
    path: str                      # as `govoffice routes` prints it (":name" parameters)
    access: str
    scoped: bool = False
    target: str | None = None      # fixture for path parameters / query (see module doc)
    body: str | None = None        # body factory name
    deny_other: tuple = (403,)     # statuses for a principal of another agency
    last: bool = False             # run after the other routes (it ends the session)
    prepare: str | None = None     # a fixture made fresh for every request (e.g. a webhook to delete)
    note: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)


HIDDEN = (404,)

ROUTES = [
    # Operations (OperationsController): public on purpose (balancers, Prometheus, integrators).
    Route("GET", "/healthz", PUBLIC),
    Route("GET", "/readyz", PUBLIC),
    Route("GET", "/metrics", PUBLIC, note="no secrets: counters by route pattern"),
    Route("GET", "/openapi.yaml", PUBLIC),
    # Sign-in (AuthController)
    Route("GET", "/login", PUBLIC),
    Route("POST", "/login", PUBLIC, body="login_wrong"),
    Route("POST", "/logout", PUBLIC, last=True),
    Route("GET", "/lang/:code", PUBLIC, target="lang"),
    Route("GET", "/favicon.ico", PUBLIC),
    # Home
    Route("GET", "/", SIGNED_IN),
    # Agency directory (AgencyController, AgencyAPIController)
    Route("GET", "/agencies", PUBLIC),
    Route("GET", "/agencies.csv", PUBLIC),
    Route("GET", "/agencies/:code", PUBLIC, target="agency_code"),
    Route("GET", "/admin/agencies/import", SYSTEM_ADMIN),
    Route("POST", "/admin/agencies/import", SYSTEM_ADMIN, body="csv_invalid"),
    Route("POST", "/admin/agencies/:code/state", SYSTEM_ADMIN, target="agency_code", body="state_active"),
    Route("POST", "/admin/agencies/:code/departments", SYSTEM_ADMIN, target="agency_code", body="department"),
    Route("GET", "/api/v1/agencies", PUBLIC),
    Route("GET", "/api/v1/agencies/:code", PUBLIC, target="agency_code"),
    # Accounts (UserAdminController, UsersAPIController)
    Route("GET", "/admin/users", AGENCY_ADMIN, scoped=True, target="agency_query"),
    Route("GET", "/admin/users/new", AGENCY_ADMIN, scoped=True, target="agency_query"),
    Route("POST", "/admin/users", AGENCY_ADMIN, scoped=True, body="new_user"),
    Route("GET", "/admin/users/:id", AGENCY_ADMIN, scoped=True, target="user"),
    Route("POST", "/admin/users/:id", AGENCY_ADMIN, scoped=True, target="user", body="user_update"),
    Route("POST", "/admin/users/:id/password", AGENCY_ADMIN, scoped=True, target="user", body="password"),
    Route("POST", "/admin/users/:id/unlock", AGENCY_ADMIN, scoped=True, target="user"),
    Route("GET", "/api/v1/users", AGENCY_ADMIN, scoped=True, target="agency_query"),
    # Agency systems (SystemAdminController, SystemAPIController)
    Route("GET", "/admin/systems", AGENCY_ADMIN, scoped=True, target="agency_query"),
    Route("POST", "/admin/systems", AGENCY_ADMIN, scoped=True, body="new_system"),
    Route("POST", "/admin/systems/:id/rotate", AGENCY_ADMIN, scoped=True, target="system_rotate"),
    Route("POST", "/admin/systems/:id/revoke", AGENCY_ADMIN, scoped=True, target="system_revoke"),
    Route("GET", "/api/v1/system/whoami", SYSTEM),
    # Audit (AuditController)
    Route("GET", "/admin/audit", AGENCY_ADMIN, scoped=True, target="agency_query"),
    Route("GET", "/admin/audit/verify", SYSTEM_ADMIN),
    # PKI (PKIAdminController): bodies are invalid, so an allowed call is a 4xx that changes nothing.
    Route("GET", "/admin/pki", SYSTEM_ADMIN),
    Route("POST", "/admin/pki/trust", SYSTEM_ADMIN, body="pem_garbage"),
    Route("POST", "/admin/pki/untrust", SYSTEM_ADMIN, body="fingerprint_unknown"),
    Route("POST", "/admin/pki/crl", SYSTEM_ADMIN, body="pem_garbage"),
    Route("POST", "/admin/pki/revoke", SYSTEM_ADMIN, body="revoke_bad_reason"),
    Route("POST", "/admin/pki/bind", SYSTEM_ADMIN, body="bind_garbage"),
    # Hub admin pages (HubAdminController)
    Route("GET", "/admin/hub", HUB_VIEW),
    Route("GET", "/admin/hub/messages", HUB_VIEW),
    Route("GET", "/admin/hub/messages/:id", HUB_VIEW, scoped=True, target="message_to", deny_other=HIDDEN),
    Route("GET", "/admin/hub/dead-letters", HUB_VIEW),
    Route("POST", "/admin/hub/deliveries/:id/redeliver", HUB_ADMIN, scoped=True, target="delivery_from",
          deny_other=HIDDEN, note="own: 409 delivery_not_dead"),
    # Document office (OfficeController). Document routes aim at a document id that does not exist,
    # so an allowed call is a harmless 404; which agency sees which document is tested in
    # OfficeTests (another agency's clerk) and tests/office (three processes). Steps that check the
    # role before looking the document up are declared with that role.
    Route("GET", "/office", OFFICE),
    Route("GET", "/office/incoming", OFFICE),
    Route("GET", "/office/outgoing", OFFICE),
    Route("GET", "/office/search", OFFICE),
    Route("GET", "/office/incoming/new", OFFICE_CLERK),
    Route("POST", "/office/incoming", OFFICE_CLERK, body="multipart_empty"),
    Route("GET", "/office/outgoing/new", OFFICE),
    Route("POST", "/office/outgoing", OFFICE, body="multipart_empty"),
    Route("GET", "/office/documents/:id", OFFICE, target="office_document_missing"),
    Route("GET", "/office/documents/:id/files/:file", OFFICE, target="office_document_missing"),
    Route("POST", "/office/documents/:id/accept", OFFICE, target="office_document_missing"),
    Route("POST", "/office/documents/:id/reject", OFFICE, target="office_document_missing"),
    Route("POST", "/office/documents/:id/assign", OFFICE, target="office_document_missing"),
    Route("POST", "/office/documents/:id/start", OFFICE, target="office_document_missing"),
    Route("POST", "/office/documents/:id/finish", OFFICE, target="office_document_missing"),
    Route("POST", "/office/documents/:id/send", OFFICE_CLERK, target="office_document_missing"),
    Route("POST", "/office/documents/:id/revocation", OFFICE, target="office_document_missing",
          note="no decision: 400 before anything else"),
    Route("POST", "/office/documents/:id/specialist", OFFICE_LEADER, target="office_document_missing"),
    Route("POST", "/office/documents/:id/approve", OFFICE_LEADER, target="office_document_missing"),
    Route("POST", "/office/documents/:id/number", OFFICE_CLERK, target="office_document_missing"),
    Route("POST", "/office/documents/:id/revoke", OFFICE_CLERK, target="office_document_missing"),
    Route("POST", "/office/documents/:id/update", OFFICE_CLERK, target="office_document_missing",
          note="no subject: 400 after the role check"),
    Route("POST", "/office/documents/:id/replace", OFFICE_CLERK, target="office_document_missing"),
    Route("GET", "/office/registers/:direction", OFFICE_RECORDS, target="register_direction"),
    Route("GET", "/office/deadlines", OFFICE),
    Route("GET", "/office/statistics", OFFICE_RECORDS),
    # Work files (WorkFileController): the office's staff, in their own agency (a specialist: the files
    # they own). Routes aimed at a file use a file id that does not exist, so an allowed call is a
    # harmless 404; which agency and which person sees which file is tested in WorkFileTests.
    Route("GET", "/office/files", OFFICE),
    Route("GET", "/office/files/new", OFFICE),
    Route("POST", "/office/files", OFFICE, body="work_file_invalid", note="own: 400 work_file_code_invalid"),
    Route("GET", "/office/files/:id", OFFICE, target="work_file_missing"),
    Route("POST", "/office/files/:id/documents", OFFICE, target="work_file_missing", body="work_file_document"),
    Route("POST", "/office/files/:id/documents/:doc/remove", OFFICE, target="work_file_missing"),
    Route("POST", "/office/files/:id/close", OFFICE, target="work_file_missing"),
    # The hub API (HubAPIController): agency systems only.
    Route("POST", "/api/v1/exchange/messages", SYSTEM, scoped=True, body="edxml_from_target",
          note="another agency's document: 403 sender_mismatch"),
    Route("GET", "/api/v1/exchange/inbox", SYSTEM),
    Route("GET", "/api/v1/exchange/messages/:id", SYSTEM, scoped=True, target="message_to", deny_other=HIDDEN),
    Route("POST", "/api/v1/exchange/messages/:id/ack", SYSTEM, scoped=True, target="message_to", body="ack_done",
          deny_other=HIDDEN),
    Route("GET", "/api/v1/exchange/messages/:id/history", SYSTEM, scoped=True, target="message_from",
          deny_other=HIDDEN),
    Route("GET", "/api/v1/exchange/messages/:id/receipt", SYSTEM, scoped=True, target="message_from",
          deny_other=HIDDEN),
    Route("POST", "/api/v1/exchange/webhooks", SYSTEM, body="webhook"),
    Route("GET", "/api/v1/exchange/webhooks", SYSTEM),
    Route("DELETE", "/api/v1/exchange/webhooks/:id", SYSTEM, scoped=True, target="webhook", prepare="webhook",
          deny_other=HIDDEN),
    Route("GET", "/api/v1/exchange/dead-letters", SYSTEM),
    Route("POST", "/api/v1/exchange/deliveries/:id/redeliver", SYSTEM, scoped=True, target="delivery_from",
          deny_other=HIDDEN, note="own: 409 delivery_not_dead"),
    # Calendar (CalendarController, CalendarFeedController): the unscoped pages act on the caller's agency.
    Route("GET", "/calendar", CALENDAR_VIEW),
    Route("GET", "/calendar/new", CALENDAR_EDIT),
    Route("POST", "/calendar", CALENDAR_EDIT, body="calendar_entry_invalid", note="own: 400 end before start"),
    Route("GET", "/calendar/rooms", CALENDAR_VIEW),
    Route("POST", "/calendar/rooms", CALENDAR_EDIT, body="calendar_room_invalid", note="own: 400 no name"),
    Route("GET", "/calendar/feeds", CALENDAR_VIEW),
    Route("POST", "/calendar/feeds/rotate", CALENDAR_VIEW, body="calendar_feed_person",
          note="the caller's own feed; the agency's (scope=agency) needs CALENDAR_EDIT"),
    Route("GET", "/calendar/:id", CALENDAR_VIEW, scoped=True, target="calendar_entry"),
    Route("GET", "/calendar/:id/edit", CALENDAR_EDIT, scoped=True, target="calendar_entry"),
    Route("POST", "/calendar/:id", CALENDAR_EDIT, scoped=True, target="calendar_entry", body="calendar_entry_invalid",
          note="own: 400 end before start"),
    Route("POST", "/calendar/:id/cancel", CALENDAR_EDIT, scoped=True, target="calendar_entry_cancel"),
    Route("GET", "/calendar/feed/:token", PUBLIC,
          note="calendar apps have no session: the secret in the URL is the credential; unknown: 404"),
]


def key(method: str, path: str) -> tuple:
    return (method.upper(), path)


TABLE = {key(r.method, r.path): r for r in ROUTES}


def expected(route: Route, principal, target_agency: str | None) -> str:
    """'allow', 'deny_auth' (no or wrong kind of credentials), 'deny_role' (403) or 'deny_other'."""
    kind, roles, agency = principal.kind, principal.roles, principal.agency
    if route.access == PUBLIC:
        return "allow"
    if route.access == SYSTEM:
        if kind != "system":
            return "deny_auth"
        if route.scoped and target_agency != agency:
            return "deny_other"
        return "allow"
    # Routes for people.
    if kind != "user":
        return "deny_auth"
    if route.access == SIGNED_IN:
        return "allow"
    if route.access in OFFICE_ROLES:
        if agency is None or not (OFFICE_ROLES[route.access] & roles):
            return "deny_role"
        if route.scoped and target_agency != agency:
            return "deny_other"
        return "allow"
    if route.access in (CALENDAR_VIEW, CALENDAR_EDIT):
        # Checked before the system admin shortcut: calendars stay within the agency.
        members = roles - {"citizen", "business"} if route.access == CALENDAR_VIEW \
            else roles & {"clerk", "leader", "agency_admin"}
        if not members or agency is None:
            return "deny_role"
        if route.scoped and target_agency != agency:
            return "deny_other"
        return "allow"
    if "system_admin" in roles:
        return "allow"
    if route.access == SYSTEM_ADMIN:
        return "deny_role"
    # AGENCY_ADMIN / HUB_ADMIN / HUB_VIEW
    managers = {"agency_admin", "clerk"} if route.access == HUB_VIEW else {"agency_admin"}
    if not (managers & roles) or agency is None:
        return "deny_role"
    if route.scoped and target_agency != agency:
        return "deny_other"
    return "allow"
