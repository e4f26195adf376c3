import Fluent
import GovCore
import SQLKit

/// Full-text search over a table's folded `search_text` column, one helper for both databases:
/// SQLite keeps an FTS5 index in step through triggers (the table's rowid is the index's rowid);
/// PostgreSQL keeps a stored `search_vector` column (`to_tsvector('simple', search_text)`) with a
/// GIN index, so a match is not re-computed row by row. The text is folded before it is
/// stored (``SearchText/fold(_:)``) and queries are folded too, so the 'simple' configuration and
/// FTS5's unicode61 tokenizer both see unaccented words.
struct FullTextSearch: Sendable {
    /// The searched table (it has a `search_text` column).
    let table: String

    private var ftsTable: String { "\(table)_fts" }

    /// Creates the index and, on SQLite, the triggers that keep it in step.
    func create(on database: any Database) async throws {
        let sql = database.sql
        if sql.dialect.name == "sqlite" {
            try await sql.raw("CREATE VIRTUAL TABLE \(ident: ftsTable) USING fts5(search_text, content=\(literal: table), content_rowid='rowid', tokenize='unicode61')").run()
            try await sql.raw("CREATE TRIGGER \(ident: ftsTable + "_ai") AFTER INSERT ON \(ident: table) BEGIN INSERT INTO \(ident: ftsTable)(rowid, search_text) VALUES (new.rowid, new.search_text); END").run()
            try await sql.raw("CREATE TRIGGER \(ident: ftsTable + "_ad") AFTER DELETE ON \(ident: table) BEGIN INSERT INTO \(ident: ftsTable)(\(ident: ftsTable), rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END").run()
            try await sql.raw("CREATE TRIGGER \(ident: ftsTable + "_au") AFTER UPDATE OF search_text ON \(ident: table) BEGIN INSERT INTO \(ident: ftsTable)(\(ident: ftsTable), rowid, search_text) VALUES ('delete', old.rowid, old.search_text); INSERT INTO \(ident: ftsTable)(rowid, search_text) VALUES (new.rowid, new.search_text); END").run()
        } else {
            // A stored vector: rechecking a lossy bitmap then reads the column instead of parsing
            // every row's text again, and the planner keeps statistics on the words.
            try await sql.raw("ALTER TABLE \(ident: table) ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED").run()
            try await sql.raw("CREATE INDEX \(ident: "idx_" + table + "_vector") ON \(ident: table) USING GIN (search_vector)").run()
            // The default statistics keep too few words: a rare one (a number such as 1234) is then
            // guessed common, and the planner walks the newest rows filtering by the vector (70 ms
            // at 1 M rows) instead of reading its few matches from the GIN index (2 ms).
            try await sql.raw("ALTER TABLE \(ident: table) ALTER COLUMN search_vector SET STATISTICS 1000").run()
        }
    }

    /// Removes what ``create(on:)`` made.
    func drop(on database: any Database) async throws {
        let sql = database.sql
        if sql.dialect.name == "sqlite" {
            for suffix in ["_ai", "_ad", "_au"] { try await sql.raw("DROP TRIGGER IF EXISTS \(ident: ftsTable + suffix)").run() }
            try await sql.raw("DROP TABLE IF EXISTS \(ident: ftsTable)").run()
        } else {
            try await sql.raw("DROP INDEX IF EXISTS \(ident: "idx_" + table + "_vector")").run()
            try await sql.raw("ALTER TABLE \(ident: table) DROP COLUMN IF EXISTS search_vector").run()
        }
    }

    /// How a page of matches is read: the FROM clause, the match condition and the order.
    struct Plan {
        /// Replaces `FROM table alias`.
        var from: SQLQueryString
        /// Added to the WHERE clause.
        var condition: SQLQueryString
        /// The ORDER BY, newest first.
        var order: SQLQueryString
    }

    /// The plan for rows of the table (aliased `alias`) that contain every term of `query` as a
    /// word or word prefix, newest first; nil when the query is empty.
    ///
    /// SQLite: the FTS5 index drives (`CROSS JOIN` keeps it the outer loop) and is read newest
    /// first by rowid, which it does without sorting, so a page stops after its rows whatever the
    /// other conditions: a common word costs a page, a rare one its few matches. Driving from the
    /// table instead walks every row of the agency and probes the match list.
    /// PostgreSQL: the stored vector with its GIN index; the planner picks between it and the
    /// creation-time index from the words' statistics.
    func plan(_ query: FullTextQuery, alias: String, dialect: String) -> Plan? {
        guard !query.isEmpty else { return nil }
        if dialect == "sqlite" {
            return Plan(
                from: "\(ident: ftsTable) CROSS JOIN \(ident: table) \(ident: alias) ON \(ident: alias).rowid = \(ident: ftsTable).rowid",
                condition: "\(ident: ftsTable) MATCH \(bind: query.fts5)",
                order: "\(ident: ftsTable).rowid DESC")
        }
        return Plan(from: "\(ident: table) \(ident: alias)",
                    condition: "\(ident: alias).search_vector @@ to_tsquery('simple', \(bind: query.tsquery))",
                    order: "\(ident: alias).created_at DESC")
    }
}
