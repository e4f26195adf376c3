import Foundation

/// Diacritics-insensitive search keys, so "van phong" finds "Văn phòng" and vice versa.
///
/// Stored search columns and queries must both go through ``fold(_:)``; otherwise matches are missed.
public enum SearchText {
    /// The comparable form of `text`: lowercased, every combining accent removed, `đ`/`Đ` → `d`,
    /// runs of whitespace collapsed to one space, trimmed.
    ///
    /// Works the same for precomposed (NFC) and decomposed (NFD) input, since both occur in Vietnamese text.
    /// The look-alike `Ð`/`ð` (often typed instead of `Đ`) also folds to `d`.
    /// Example: `"Văn phòng Chính phủ"` → `"van phong chinh phu"`, `"ĐẮK LẮK"` → `"dak lak"`.
    public static func fold(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !output.isEmpty
                continue
            }
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark:
                continue
            default:
                break
            }
            if pendingSpace {
                output.append(" ")
                pendingSpace = false
            }
            switch scalar {
            case "\u{0111}", "\u{0110}", "\u{00F0}", "\u{00D0}":
                output.append("d")
            default:
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// The escape character used by ``likePattern(containing:)``; pass it as `ESCAPE` in SQL.
    public static let likeEscape: String = "\\"

    /// A SQL `LIKE` pattern matching folded text that contains the folded `query`.
    ///
    /// `\`, `%` and `_` in the query are escaped with ``likeEscape`` so that they match literally;
    /// use it as `column LIKE ? ESCAPE '\'` against a column holding ``fold(_:)`` output.
    /// An empty query gives `%%`, which matches everything.
    public static func likePattern(containing query: String) -> String {
        var escaped = ""
        for character in fold(query) {
            if character == "\\" || character == "%" || character == "_" {
                escaped.append(contentsOf: likeEscape)
            }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }
}
