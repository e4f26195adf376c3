import Foundation

/// What a person typed into a full-text search box, reduced to terms the database's full-text engine
/// can only read as words: folded like ``SearchText/fold(_:)`` (so "quyet dinh" finds "quyết định"),
/// split on anything that is not a letter or digit. Quotes, operators, `*`, `:` and SQL never reach
/// the engine, so no input can be a syntax error or an injection.
public struct FullTextQuery: Sendable, Equatable {
    /// The terms, folded, letters and digits only, at most ``maxTerms``; every one must match.
    public let terms: [String]

    /// How many terms are kept; more only slow the engine down.
    public static let maxTerms = 8
    /// The longest term kept; longer ones are cut (nobody types 64 letters to find a word).
    public static let maxTermLength = 64

    /// Splits `text` into search terms.
    public init(_ text: String) {
        var terms: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty, terms.count < Self.maxTerms, !terms.contains(current) {
                terms.append(String(current.prefix(Self.maxTermLength)))
            }
            current = ""
        }
        for character in SearchText.fold(text) {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else {
                flush()
            }
        }
        flush()
        self.terms = terms
    }

    /// The text to store in an indexed column: folded, and every run of characters that are not
    /// letters or digits made one space. Both engines then see the same words the query is split
    /// into (PostgreSQL's parser would otherwise read "12/qd-ubnd" as one path-like token).
    public static func indexText(_ text: String) -> String {
        var out = ""
        var space = false
        for character in SearchText.fold(text) {
            if character.isLetter || character.isNumber {
                if space, !out.isEmpty { out.append(" ") }
                out.append(character)
                space = false
            } else {
                space = true
            }
        }
        return out
    }

    /// Whether there is nothing to search for.
    public var isEmpty: Bool { terms.isEmpty }

    /// The SQLite FTS5 query: every term as a quoted whole word (`"quyet" AND "dinh"`). Whole
    /// words, not prefixes: Vietnamese is written in whole syllables, and a prefix makes the engine
    /// merge the lists of every word it starts (all of "bao…") before it can return one row. Terms hold
    /// letters and digits only, so the quotes cannot be closed from inside.
    public var fts5: String {
        terms.map { "\"\($0)\"" }.joined(separator: " AND ")
    }

    /// The PostgreSQL `to_tsquery('simple', …)` text: every term as a whole word (`quyet & dinh`).
    public var tsquery: String {
        terms.joined(separator: " & ")
    }
}
