import Fluent

/// An office may sign with the organisation's key on a PKCS#11 token instead of a key file.
struct M0014_OfficeTokens: AsyncMigration {
    var name: String { "0014_office_tokens" }

    func prepare(on database: any Database) async throws {
        // One column per ALTER: SQLite adds a single column at a time.
        for column in ["pkcs11_module", "token_label", "key_label"] {
            try await database.schema("office_connections").field(.string(column), .string).update()
        }
    }

    func revert(on database: any Database) async throws {
        for column in ["pkcs11_module", "token_label", "key_label"] {
            try await database.schema("office_connections").deleteField(.string(column)).update()
        }
    }
}
