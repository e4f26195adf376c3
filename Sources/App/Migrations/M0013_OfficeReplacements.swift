import Fluent

/// An outgoing document that replaces an earlier one (Decree 30/2020: content errors are corrected
/// by a document of the same form that replaces it) records which.
struct M0013_OfficeReplacements: AsyncMigration {
    var name: String { "0013_office_replacements" }

    func prepare(on database: any Database) async throws {
        try await database.schema("office_documents").field("replaces_id", .uuid).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("office_documents").deleteField("replaces_id").update()
    }
}
