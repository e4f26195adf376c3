import Fluent
import GovCore
import SQLKit

/// Issue 14 (hardening), accounts: a web session names its user, so that a password reset, a lock or a
/// change of roles ends every session of that user in the same transaction; and the key that signs the
/// anonymous forms' CSRF cookie, one per deployment so that every node accepts the others' tokens.
struct M0016_HardenAccounts: AsyncMigration {
    var name: String { "0016_harden_accounts" }

    func prepare(on database: any Database) async throws {
        try await database.schema(WebSession.schema).field("user_id", .uuid).update()
        try await database.createIndex("idx_web_sessions_user", on: WebSession.schema, "user_id")
        try await database.schema(AppKey.schema)
            .field("name", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        try await AppKey(name: AppKey.csrfName, value: SystemSecret.generate()).create(on: database)
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AppKey.schema).delete()
        try await database.sql.drop(index: "idx_web_sessions_user").run()
        try await database.schema(WebSession.schema).deleteField("user_id").update()
    }
}
