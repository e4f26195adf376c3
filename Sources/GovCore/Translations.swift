import Foundation

/// The user-interface text catalogues, one flat key → string table per language.
///
/// Lookups never fail: a key missing in the asked language falls back to Vietnamese (always the most
/// complete catalogue), and a key missing everywhere is shown as itself so the gap is visible but harmless.
public struct Translations: Sendable {
    private let tables: [Language: [String: String]]

    /// Loads `<directory>/vi.json` and `<directory>/en.json`.
    ///
    /// Each file must be a JSON object whose values are all strings (no nesting), because keys are
    /// dotted names rather than paths. Throws a ``GovError`` (code `translations_file_missing` or
    /// `translations_file_invalid`) naming the file when either file is missing or malformed.
    public init(directory: URL) throws {
        var tables: [Language: [String: String]] = [:]
        for language in Language.allCases {
            let file = directory.appendingPathComponent("\(language.rawValue).json")
            let data: Data
            do {
                data = try Data(contentsOf: file)
            } catch {
                throw GovError(
                    "translations_file_missing", .notFound,
                    vi: "Không đọc được tệp bản dịch \(file.path).",
                    en: "Cannot read translation file \(file.path)."
                )
            }
            do {
                tables[language] = try JSONDecoder().decode([String: String].self, from: data)
            } catch {
                throw GovError(
                    "translations_file_invalid", .invalid,
                    vi: "Tệp bản dịch \(file.path) phải là một đối tượng JSON phẳng, mỗi giá trị là một chuỗi.",
                    en: "Translation file \(file.path) must be a flat JSON object whose values are all strings."
                )
            }
        }
        self.tables = tables
    }

    /// Uses the given tables as they are; a language without a table behaves as an empty catalogue.
    public init(tables: [Language: [String: String]]) {
        self.tables = tables
    }

    /// The text for `key` in `language`, falling back to Vietnamese and then to the key itself.
    ///
    /// Every `{name}` whose name is in `args` is replaced by its value; other braces are left alone.
    /// Substitution is a single pass, so a value that itself contains `{other}` is never expanded again.
    public func t(_ key: String, _ language: Language, _ args: [String: String] = [:]) -> String {
        let template = tables[language]?[key] ?? tables[.vi]?[key] ?? key
        guard !args.isEmpty, template.contains("{") else { return template }
        return Self.substitute(template, args)
    }

    /// Every key defined for `language`.
    public func keys(_ language: Language) -> Set<String> {
        tables[language].map { Set($0.keys) } ?? []
    }

    /// For each language, the sorted keys other languages define but it lacks.
    ///
    /// Languages lacking nothing are omitted, so a complete catalogue gives an empty dictionary.
    public func missingKeys() -> [Language: [String]] {
        let all = Language.allCases.reduce(into: Set<String>()) { $0.formUnion(keys($1)) }
        var result: [Language: [String]] = [:]
        for language in Language.allCases {
            let missing = all.subtracting(keys(language))
            if !missing.isEmpty {
                result[language] = missing.sorted()
            }
        }
        return result
    }

    private static func substitute(_ template: String, _ args: [String: String]) -> String {
        var output = ""
        output.reserveCapacity(template.count)
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "}") else {
                output += rest[open...]
                return output
            }
            let name = String(rest[afterOpen..<close])
            if let value = args[name] {
                output += value
                rest = rest[rest.index(after: close)...]
            } else {
                // Keep the brace literally and rescan after it, so "{{name}" still substitutes the inner one.
                output += "{"
                rest = rest[afterOpen...]
            }
        }
        output += rest
        return output
    }
}
