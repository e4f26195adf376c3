import Fluent
import GovCore
import SQLKit
import Vapor

/// The schema history, append-only: a new change is a new numbered migration, never an edit.
enum GovMigrations {
    static func register(_ app: Application) {
        // Why each exists, in one line:
        app.migrations.add(M0001_CreateAgencies())       // the agency directory (QĐ 20/2020 codes)
        app.migrations.add(M0002_CreateDepartments())    // units inside an agency
        app.migrations.add(M0003_CreateUsers())          // accounts with roles, bound to agency and unit
        app.migrations.add(M0004_CreateLoginThrottles()) // sign-in back-off per username
        app.migrations.add(M0005_CreateAgencySystems())  // machine credentials of agency systems
        app.migrations.add(M0006_CreateAuditLog())       // the hash-chained audit trail and its head
        app.migrations.add(M0007_CreateWebSessions())    // server-side web sessions (shared by all nodes, expiring)
        app.migrations.add(M0008_CreatePKI())            // trusted CAs, CRLs, revoked serials, certificates bound to agencies
        app.migrations.add(M0009_CreateExchange())       // the hub: messages, deliveries, parties, webhooks, evidence chain
        app.migrations.add(M0010_CreateOffice())         // the document office: documents, registers, outbox to the hub, search
        app.migrations.add(M0011_CreateCalendar())       // the work and meeting calendar: rooms, entries, participants, feed tokens
        app.migrations.add(M0012_CreateWorkFiles())      // work files: files of a year, their documents, the list fixed at closing
        app.migrations.add(M0016_HardenAccounts())       // sessions name their user (ended on reset/lock/roles); the anonymous-form CSRF key
        app.migrations.add(M0019_EdXMLWarningsAndRefusedIntake()) // edXML warnings kept with hub messages; office intake refused for its signature
    }
}

extension Database {
    /// Creates an index with SQLKit (Fluent's schema builder has none).
    func createIndex(_ name: String, on table: String, _ columns: String...) async throws {
        var builder = sql.create(index: name).on(table)
        for column in columns { builder = builder.column(column) }
        try await builder.run()
    }
}

struct M0001_CreateAgencies: AsyncMigration {
    var name: String { "0001_create_agencies" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Agency.schema)
            .id()
            .field("code", .string, .required)
            .field("code_standard", .bool, .required)
            .field("name", .string, .required)
            .field("short_name", .string)
            .field("parent_code", .string)
            .field("level", .int, .required)
            .field("group_name", .string)
            .field("address", .string)
            .field("email", .string)
            .field("phone", .string)
            .field("fax", .string)
            .field("website", .string)
            .field("valid_from", .string)
            .field("valid_to", .string)
            .field("state", .string, .required)
            .field("successor_code", .string)
            .field("note", .string)
            .field("search_key", .string, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "code")
            .create()
        try await database.createIndex("idx_agencies_parent", on: Agency.schema, "parent_code")
        try await database.createIndex("idx_agencies_search", on: Agency.schema, "search_key")
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Agency.schema).delete()
    }
}

struct M0002_CreateDepartments: AsyncMigration {
    var name: String { "0002_create_departments" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Department.schema)
            .id()
            .field("agency_id", .uuid, .required, .references(Agency.schema, "id", onDelete: .restrict))
            .field("code", .string, .required)
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("search_key", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "agency_id", "code")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Department.schema).delete()
    }
}

struct M0003_CreateUsers: AsyncMigration {
    var name: String { "0003_create_users" }

    func prepare(on database: any Database) async throws {
        try await database.schema(User.schema)
            .id()
            .field("username", .string, .required)
            .field("full_name", .string, .required)
            .field("email", .string)
            .field("phone", .string)
            .field("position", .string)
            .field("search_key", .string, .required)
            .field("agency_id", .uuid, .references(Agency.schema, "id", onDelete: .restrict))
            .field("department_id", .uuid, .references(Department.schema, "id", onDelete: .setNull))
            .field("roles", .array(of: .string), .required)
            .field("state", .string, .required)
            .field("password_hash", .string, .required)
            .field("password_changed_at", .datetime)
            .field("last_login_at", .datetime)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "username")
            .create()
        try await database.createIndex("idx_users_agency", on: User.schema, "agency_id")
    }

    func revert(on database: any Database) async throws {
        try await database.schema(User.schema).delete()
    }
}

struct M0004_CreateLoginThrottles: AsyncMigration {
    var name: String { "0004_create_login_throttles" }

    func prepare(on database: any Database) async throws {
        try await database.schema(LoginThrottle.schema)
            .id()
            .field("username_key", .string, .required)
            .field("failures", .int, .required)
            .field("locked_until", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "username_key")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LoginThrottle.schema).delete()
    }
}

struct M0005_CreateAgencySystems: AsyncMigration {
    var name: String { "0005_create_agency_systems" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AgencySystem.schema)
            .id()
            .field("agency_id", .uuid, .required, .references(Agency.schema, "id", onDelete: .restrict))
            .field("system_id", .string, .required)
            .field("name", .string, .required)
            .field("secret_hash", .string, .required)
            .field("state", .string, .required)
            .field("created_at", .datetime)
            .field("rotated_at", .datetime)
            .field("revoked_at", .datetime)
            .field("last_used_at", .datetime)
            .unique(on: "system_id")
            .unique(on: "secret_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AgencySystem.schema).delete()
    }
}

struct M0006_CreateAuditLog: AsyncMigration {
    var name: String { "0006_create_audit_log" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AuditRecord.schema)
            .field("seq", .int64, .identifier(auto: false))
            .field("at_ms", .int64, .required)
            .field("actor", .string, .required)
            .field("agency_code", .string)
            .field("action", .string, .required)
            .field("entity_type", .string, .required)
            .field("entity_id", .string)
            .field("details", .string, .required)
            .field("ip", .string)
            .field("request_id", .string)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .create()
        try await database.createIndex("idx_audit_agency", on: AuditRecord.schema, "agency_code", "seq")
        try await database.createIndex("idx_audit_action", on: AuditRecord.schema, "action", "seq")
        try await database.schema(AuditHead.schema)
            .field("id", .int, .identifier(auto: false))
            .field("seq", .int64, .required)
            .field("hash", .string, .required)
            .create()
        try await AuditHead(id: 1, seq: 0, hash: AuditChain.genesisHash).create(on: database)
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AuditHead.schema).delete()
        try await database.schema(AuditRecord.schema).delete()
    }
}

struct M0007_CreateWebSessions: AsyncMigration {
    var name: String { "0007_create_web_sessions" }

    func prepare(on database: any Database) async throws {
        try await database.schema(WebSession.schema)
            .field("id_hash", .string, .identifier(auto: false))
            .field("data", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("created_at", .datetime)
            .create()
        try await database.createIndex("idx_web_sessions_expiry", on: WebSession.schema, "expires_at")
    }

    func revert(on database: any Database) async throws {
        try await database.schema(WebSession.schema).delete()
    }
}

struct M0008_CreatePKI: AsyncMigration {
    var name: String { "0008_create_pki" }

    func prepare(on database: any Database) async throws {
        try await database.schema(TrustAnchorRecord.schema)
            .id()
            .field("fingerprint", .string, .required)
            .field("subject", .string, .required)
            .field("issuer", .string, .required)
            .field("is_root", .bool, .required)
            .field("is_demo", .bool, .required)
            .field("pem", .string, .required)
            .field("not_after", .datetime, .required)
            .field("source", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "fingerprint")
            .create()
        try await database.schema(RevocationListRecord.schema)
            .id()
            .field("issuer", .string, .required)
            .field("this_update", .datetime, .required)
            .field("next_update", .datetime)
            .field("entries", .int, .required)
            .field("der_base64", .string, .required)
            .field("imported_at", .datetime)
            .unique(on: "issuer")
            .create()
        try await database.schema(RevokedSerialRecord.schema)
            .id()
            .field("issuer", .string, .required)
            .field("serial", .string, .required)
            .field("reason", .string, .required)
            .field("revoked_at", .datetime, .required)
            .field("created_at", .datetime)
            .unique(on: "issuer", "serial")
            .create()
        try await database.schema(AgencyCertificateRecord.schema)
            .id()
            .field("agency_code", .string, .required)
            .field("kind", .string, .required)
            .field("username", .string)
            .field("fingerprint", .string, .required)
            .field("subject", .string, .required)
            .field("issuer", .string, .required)
            .field("serial", .string, .required)
            .field("not_after", .datetime, .required)
            .field("pem", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "fingerprint")
            .create()
        try await database.createIndex("agency_certificates_agency", on: AgencyCertificateRecord.schema, "agency_code")
    }

    func revert(on database: any Database) async throws {
        for schema in [AgencyCertificateRecord.schema, RevokedSerialRecord.schema, RevocationListRecord.schema,
                       TrustAnchorRecord.schema] {
            try await database.schema(schema).delete()
        }
    }
}

struct M0009_CreateExchange: AsyncMigration {
    var name: String { "0009_create_exchange" }

    func prepare(on database: any Database) async throws {
        // Times are epoch milliseconds (BIGINT): the hub's hot paths use SQLKit on both databases
        // and compare times numerically.
        try await database.schema("exchange_messages")
            .field("id", .uuid, .identifier(auto: false))
            .field("seq", .int64, .required)
            .field("kind", .string, .required)
            .field("business_type", .int, .required)
            .field("sender_code", .string, .required)
            .field("sender_system", .string, .required)
            .field("document_id", .string, .required)
            .field("subject", .string)
            .field("status_code", .string)
            .field("root_id", .uuid)
            .field("recipients", .string, .required)
            .field("sha256", .string, .required)
            .field("size", .int64, .required)
            .field("payload", .data)
            .field("receipt_json", .string, .required)
            .field("receipt_cms", .data, .required)
            .field("accepted_ms", .int64, .required)
            .field("settled_ms", .int64)
            .field("purged_ms", .int64)
            .unique(on: "seq")
            .create()
        try await database.createIndex("exchange_messages_dedupe", on: "exchange_messages", "sender_code", "sha256")
        try await database.createIndex("exchange_messages_document", on: "exchange_messages", "sender_code", "document_id", "kind")
        try await database.createIndex("exchange_messages_root", on: "exchange_messages", "root_id", "seq")
        try await database.createIndex("exchange_messages_accepted", on: "exchange_messages", "accepted_ms")
        // One new document per sender and DocumentId, whatever node accepts it.
        try await database.sql.raw("""
            CREATE UNIQUE INDEX exchange_messages_new_document ON exchange_messages (sender_code, document_id)
            WHERE kind = 'document' AND business_type IN (0, 3)
            """).run()

        try await database.schema("exchange_deliveries")
            .field("id", .uuid, .identifier(auto: false))
            .field("message_id", .uuid, .required, .references("exchange_messages", "id"))
            .field("recipient_code", .string, .required)
            .field("seq", .int64, .required)
            .field("kind", .string, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_ms", .int64, .required)
            .field("last_error", .string)
            .field("delivered_ms", .int64)
            .field("acknowledged_ms", .int64)
            .field("ack_reason", .string)
            .field("dead_ms", .int64)
            .field("created_ms", .int64, .required)
            .unique(on: "message_id", "recipient_code")
            .create()
        try await database.createIndex("exchange_deliveries_inbox", on: "exchange_deliveries", "recipient_code", "state", "seq")
        try await database.createIndex("exchange_deliveries_due", on: "exchange_deliveries", "state", "next_attempt_ms")

        // Who takes part in a document (its recipients, changed by updates) and where each stands.
        try await database.schema("exchange_parties")
            .field("root_id", .uuid, .required, .references("exchange_messages", "id"))
            .field("agency_code", .string, .required)
            .field("active", .bool, .required)
            .field("progress", .string)
            .field("latest_status", .string)
            .field("latest_status_ms", .int64)
            .field("pending_request", .string)
            .field("revoked", .bool, .required)
            .field("created_ms", .int64, .required)
            .unique(on: "root_id", "agency_code")
            .create()
        try await database.createIndex("exchange_parties_agency", on: "exchange_parties", "agency_code")

        try await database.schema("exchange_webhooks")
            .field("id", .uuid, .identifier(auto: false))
            .field("agency_code", .string, .required)
            .field("system_id", .string, .required)
            .field("url", .string, .required)
            .field("secret", .string, .required)
            .field("created_ms", .int64, .required)
            .unique(on: "system_id")
            .create()
        try await database.createIndex("exchange_webhooks_agency", on: "exchange_webhooks", "agency_code")

        // The evidence log has the audit log's columns and chain rules (ChainedLog).
        try await database.schema("exchange_evidence")
            .field("seq", .int64, .identifier(auto: false))
            .field("at_ms", .int64, .required)
            .field("actor", .string, .required)
            .field("agency_code", .string)
            .field("action", .string, .required)
            .field("entity_type", .string, .required)
            .field("entity_id", .string)
            .field("details", .string, .required)
            .field("ip", .string)
            .field("request_id", .string)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .create()
        try await database.schema("exchange_evidence_head")
            .field("id", .int, .identifier(auto: false))
            .field("seq", .int64, .required)
            .field("hash", .string, .required)
            .create()
        try await database.sql.insert(into: "exchange_evidence_head").columns("id", "seq", "hash")
            .values(SQLBind(1), SQLBind(Int64(0)), SQLBind(AuditChain.genesisHash)).run()
    }

    func revert(on database: any Database) async throws {
        for schema in ["exchange_evidence_head", "exchange_evidence", "exchange_webhooks", "exchange_parties",
                       "exchange_deliveries", "exchange_messages"] {
            try await database.schema(schema).delete()
        }
    }
}
