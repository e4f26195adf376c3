import Fluent

/// PostgreSQL keeps the office documents' search vectors in a stored column (see
/// `FullTextSearch.storeVectors`); SQLite's FTS5 index is unchanged.
struct M0015_OfficeSearchVectors: AsyncMigration {
    var name: String { "0015_office_search_vectors" }

    func prepare(on database: any Database) async throws {
        try await OfficeDocument.search.storeVectors(on: database)
    }

    func revert(on database: any Database) async throws {
        guard database.sql.dialect.name != "sqlite" else { return }
        try await database.sql.raw("DROP INDEX IF EXISTS idx_office_documents_vector").run()
        try await database.sql.raw("ALTER TABLE office_documents DROP COLUMN IF EXISTS search_vector").run()
        try await database.sql.raw("CREATE INDEX idx_office_documents_fts ON office_documents USING GIN (to_tsvector('simple', search_text))").run()
    }
}
