import Fluent
import GovCore
import FluentSQL
import SQLKit

/// Diacritic- and case-insensitive "contains" over a pre-folded column, the same on SQLite and
/// PostgreSQL. The user's text is folded, its LIKE wildcards escaped, and bound as a parameter,
/// so `%`, `_`, quotes and SQL fragments are only ever searched for, never run.
enum SearchFilter {
    static func contains(_ column: String, _ text: String) -> any SQLExpression {
        SQLBinaryExpression(
            left: SQLColumn(column),
            op: SQLRaw("LIKE"),
            right: SQLQueryString("\(bind: SearchText.likePattern(containing: text)) ESCAPE '\(unsafeRaw: SearchText.likeEscape)'"))
    }
}
