import CSV
import Foundation

/// A problem found in one place of an imported CSV file.
public struct CSVRowIssue: Sendable, Equatable {
    /// 1-based physical line in the file where the record starts (the header is line 1).
    public let line: Int
    /// The column (header name) concerned, or nil when the whole row or file is concerned.
    public let column: String?
    /// Stable snake_case identifier, e.g. `csv_level_invalid`.
    public let code: String
    /// Vietnamese message.
    public let vi: String
    /// English message.
    public let en: String

    /// Creates an issue.
    public init(line: Int, column: String?, code: String, vi: String, en: String) {
        self.line = line
        self.column = column
        self.code = code
        self.vi = vi
        self.en = en
    }

    /// An issue carrying a domain error's code and messages.
    public init(line: Int, column: String?, error: GovError) {
        self.init(line: line, column: column, code: error.code, vi: error.vi, en: error.en)
    }

    /// An issue carrying a warning's code and messages.
    public init(line: Int, column: String?, warning: GovWarning) {
        self.init(line: line, column: column, code: warning.code, vi: warning.vi, en: warning.en)
    }

    /// The message for people who read `language`.
    public func message(in language: Language) -> String {
        language == .vi ? vi : en
    }
}

/// The outcome of reading an agency CSV file: the good records and everything wrong with the file.
public struct AgencyCSVResult: Sendable {
    /// Records of the rows without errors, in file order.
    public let records: [AgencyRecord]
    /// Problems that must be fixed before the file may be imported.
    public let errors: [CSVRowIssue]
    /// Things worth a look that do not block the import.
    public let warnings: [CSVRowIssue]

    /// Creates a result.
    public init(records: [AgencyRecord], errors: [CSVRowIssue], warnings: [CSVRowIssue]) {
        self.records = records
        self.errors = errors
        self.warnings = warnings
    }

    /// Whether the file may be imported: an import is all or nothing, so any error rejects it.
    public var isValid: Bool { errors.isEmpty }
}

/// The agency directory's CSV exchange format (import from spreadsheets, export for other systems).
///
/// UTF-8, comma-separated, RFC 4180 quoting, header row naming the ``columns`` (any order, case-insensitive).
public enum AgencyCSV {
    /// Every known column, in the order ``write(_:)`` emits them.
    public static let columns: [String] = [
        "code", "name", "short_name", "parent_code", "level", "group", "address", "email", "phone", "fax",
        "website", "valid_from", "valid_to", "state", "successor_code", "note",
    ]

    /// Columns the header must contain.
    public static let requiredColumns: [String] = ["code", "name"]

    /// Reads a CSV file and checks every cell, never trapping on malformed input.
    ///
    /// A leading BOM is ignored and CRLF or LF line ends are accepted. Blank lines are skipped, empty cells
    /// are nil, an empty `level` is 1 and an empty `state` is `active`; cells are trimmed and Unicode-composed
    /// (NFC). Parent and successor codes must appear in the file or in `existingCodes` (codes already in the
    /// directory; a row with such a code is an update). Every problem is reported with its line and column;
    /// non-standard agency codes and unknown columns are warnings.
    public static func parse(_ text: String, existingCodes: Set<String>) -> AgencyCSVResult {
        var body = text
        if body.unicodeScalars.first == "\u{FEFF}" {
            body = String(body.unicodeScalars.dropFirst())
        }
        var errors: [CSVRowIssue] = []
        var warnings: [CSVRowIssue] = []

        let rows: [RawRow]
        do {
            rows = try readRows(body)
        } catch {
            return AgencyCSVResult(records: [], errors: [malformed(line: 1)], warnings: [])
        }

        guard let headerRow = rows.first else {
            return AgencyCSVResult(records: [], errors: [missingColumns(requiredColumns)], warnings: [])
        }
        if headerRow.isMalformed {
            return AgencyCSVResult(records: [], errors: [malformed(line: 1)], warnings: [])
        }

        // Header: where each known column is.
        let header = headerRow.cells.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        var index: [String: Int] = [:]
        for (position, name) in header.enumerated() {
            if columns.contains(name) {
                if index[name] != nil {
                    errors.append(CSVRowIssue(
                        line: 1, column: name, code: "csv_duplicate_column",
                        vi: "Cột \"\(name)\" xuất hiện nhiều lần trong dòng tiêu đề.",
                        en: "Column \"\(name)\" appears more than once in the header."
                    ))
                } else {
                    index[name] = position
                }
            } else {
                warnings.append(CSVRowIssue(
                    line: 1, column: name, code: "csv_unknown_column",
                    vi: "Cột \"\(name)\" không được hỗ trợ và sẽ bị bỏ qua.",
                    en: "Column \"\(name)\" is not supported and will be ignored."
                ))
            }
        }
        let missing = requiredColumns.filter { index[$0] == nil }
        if !missing.isEmpty {
            return AgencyCSVResult(records: [], errors: [missingColumns(missing)], warnings: warnings)
        }
        if !errors.isEmpty {
            return AgencyCSVResult(records: [], errors: errors, warnings: warnings)
        }

        let dataRows = rows.dropFirst().filter { row in
            row.isMalformed || !row.cells.allSatisfy { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }

        // First pass: every well-formed code in the file, so parents may be defined after their children.
        var fileCodes = Set<String>()
        for row in dataRows where !row.isMalformed && row.cells.count <= header.count {
            if let raw = cell(row, "code", index), let code = try? AgencyCode(validating: raw) {
                fileCodes.insert(code.value)
            }
        }
        let knownCodes = fileCodes.union(existingCodes)

        var records: [AgencyRecord] = []
        var seenCodes = Set<String>()
        for row in dataRows {
            let line = row.line
            if row.isMalformed {
                errors.append(malformed(line: line))
                continue
            }
            if row.cells.count > header.count {
                errors.append(CSVRowIssue(
                    line: line, column: nil, code: "csv_column_count",
                    vi: "Dòng có \(row.cells.count) ô, nhiều hơn \(header.count) cột của dòng tiêu đề.",
                    en: "The row has \(row.cells.count) cells, more than the header's \(header.count) columns."
                ))
                continue
            }
            var rowErrors: [CSVRowIssue] = []
            func fail(_ column: String?, _ error: GovError) {
                rowErrors.append(CSVRowIssue(line: line, column: column, error: error))
            }

            var code = AgencyCode(unchecked: "")
            do {
                code = try AgencyCode(validating: cell(row, "code", index) ?? "")
                if seenCodes.contains(code.value) {
                    fail("code", GovError(
                        "csv_duplicate_code", .conflict,
                        vi: "Mã \(code.value) xuất hiện nhiều lần trong tệp.",
                        en: "Code \(code.value) appears more than once in the file."
                    ))
                }
                seenCodes.insert(code.value)
                if let warning = code.standardWarning {
                    warnings.append(CSVRowIssue(line: line, column: "code", warning: warning))
                }
            } catch {
                fail("code", error)
            }

            func reference(_ column: String, unknownCode: String, vi: String, en: String) -> AgencyCode? {
                guard let raw = cell(row, column, index) else { return nil }
                do {
                    let referenced = try AgencyCode(validating: raw)
                    if !knownCodes.contains(referenced.value) {
                        fail(column, GovError(
                            unknownCode, .invalid,
                            vi: "\(vi) \(referenced.value) không có trong tệp cũng như trong danh mục.",
                            en: "\(en) \(referenced.value) is neither in the file nor in the directory."
                        ))
                    }
                    return referenced
                } catch {
                    fail(column, error)
                    return nil
                }
            }
            let parent = reference("parent_code", unknownCode: "csv_parent_unknown",
                                   vi: "Cơ quan cấp trên", en: "Parent agency")
            let successor = reference("successor_code", unknownCode: "csv_successor_unknown",
                                      vi: "Cơ quan kế thừa", en: "Successor agency")

            var level = 1
            if let raw = cell(row, "level", index) {
                if let parsed = Int(raw), AgencyRecord.levels.contains(parsed) {
                    level = parsed
                } else {
                    fail("level", GovError(
                        "csv_level_invalid", .invalid,
                        vi: "Cấp \"\(raw)\" không hợp lệ; phải là số từ 1 đến 4.",
                        en: "Level \"\(raw)\" is invalid; it must be a number from 1 to 4."
                    ))
                }
            }

            func date(_ column: String) -> CivilDate? {
                guard let raw = cell(row, column, index) else { return nil }
                do {
                    return try CivilDate(parsing: raw)
                } catch {
                    fail(column, error)
                    return nil
                }
            }
            let validFrom = date("valid_from")
            let validTo = date("valid_to")

            var state = AgencyState.active
            if let raw = cell(row, "state", index) {
                if let parsed = AgencyState(rawValue: raw.lowercased()) {
                    state = parsed
                } else {
                    fail("state", GovError(
                        "csv_state_invalid", .invalid,
                        vi: "Trạng thái \"\(raw)\" không hợp lệ; dùng active hoặc locked.",
                        en: "State \"\(raw)\" is invalid; use active or locked."
                    ))
                }
            }

            let record = AgencyRecord(
                code: code,
                name: cell(row, "name", index) ?? "",
                shortName: cell(row, "short_name", index),
                parentCode: parent,
                level: level,
                group: cell(row, "group", index),
                address: cell(row, "address", index),
                email: cell(row, "email", index),
                phone: cell(row, "phone", index),
                fax: cell(row, "fax", index),
                website: cell(row, "website", index),
                validFrom: validFrom,
                validTo: validTo,
                state: state,
                successorCode: successor,
                note: cell(row, "note", index)
            )
            for error in record.validate() {
                fail(validationColumns[error.code], error)
            }

            if rowErrors.isEmpty {
                records.append(record)
            } else {
                errors.append(contentsOf: rowErrors)
            }
        }
        return AgencyCSVResult(records: records, errors: errors, warnings: warnings)
    }

    /// The records as CSV: header row of ``columns``, one row per record, quoted where needed,
    /// CRLF after every row, ISO dates, empty cells for nil, no BOM.
    ///
    /// Valid records survive ``parse(_:existingCodes:)`` unchanged.
    public static func write(_ records: [AgencyRecord]) -> String {
        CSVText.write([columns] + records.map(cells(of:))) + "\r\n"
    }

    // MARK: - Private

    /// Which CSV column each ``AgencyRecord/validate()`` error is about.
    private static let validationColumns: [String: String] = [
        "agency_name_empty": "name",
        "agency_name_too_long": "name",
        "agency_level_invalid": "level",
        "agency_email_invalid": "email",
        "agency_valid_range_invalid": "valid_to",
        "agency_parent_self": "parent_code",
        "agency_successor_self": "successor_code",
        "agency_website_invalid": "website",
    ]

    private struct RawRow {
        var line: Int
        var cells: [String]
        var isMalformed: Bool
    }

    /// Splits the text into records with the line each starts on.
    ///
    /// CSV.swift does not report an unterminated quote (it silently reads to the end of the file), so each
    /// record's physical lines are checked for an even number of `"`: in RFC 4180 quotes only come in pairs.
    private static func readRows(_ body: String) throws -> [RawRow] {
        let quotesPerLine = quoteCounts(body)
        let reader = try CSVReader(string: body, hasHeaderRow: false)
        var rows: [RawRow] = []
        var line = 1
        while let cells = reader.next() {
            let span = 1 + cells.reduce(0) { $0 + lineBreaks(in: $1) }
            let first = min(line - 1, quotesPerLine.count)
            let last = min(line - 1 + span, quotesPerLine.count)
            let quotes = quotesPerLine[first..<last].reduce(0, +)
            rows.append(RawRow(line: line, cells: cells, isMalformed: quotes % 2 != 0))
            line += span
        }
        return rows
    }

    /// Number of `"` on each physical line; CRLF, CR and LF each end a line.
    private static func quoteCounts(_ text: String) -> [Int] {
        var counts = [0]
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n":
                if !previousWasCR { counts.append(0) }
                previousWasCR = false
            case "\r":
                counts.append(0)
                previousWasCR = true
            case "\"":
                counts[counts.count - 1] += 1
                previousWasCR = false
            default:
                previousWasCR = false
            }
        }
        return counts
    }

    /// Line ends inside a quoted cell, counted like ``quoteCounts(_:)`` counts them.
    private static func lineBreaks(in cell: String) -> Int {
        var breaks = 0
        var previousWasCR = false
        for scalar in cell.unicodeScalars {
            if scalar == "\r" {
                breaks += 1
                previousWasCR = true
            } else {
                if scalar == "\n" && !previousWasCR { breaks += 1 }
                previousWasCR = false
            }
        }
        return breaks
    }

    /// The trimmed, NFC cell of `column`, or nil when the column is absent or the cell is blank.
    private static func cell(_ row: RawRow, _ column: String, _ index: [String: Int]) -> String? {
        guard let position = index[column], position < row.cells.count else { return nil }
        let value = row.cells[position].trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value.precomposedStringWithCanonicalMapping
    }

    private static func cells(of record: AgencyRecord) -> [String] {
        [
            record.code.value,
            record.name,
            record.shortName ?? "",
            record.parentCode?.value ?? "",
            String(record.level),
            record.group ?? "",
            record.address ?? "",
            record.email ?? "",
            record.phone ?? "",
            record.fax ?? "",
            record.website ?? "",
            record.validFrom?.iso ?? "",
            record.validTo?.iso ?? "",
            record.state.rawValue,
            record.successorCode?.value ?? "",
            record.note ?? "",
        ]
    }

    private static func malformed(line: Int) -> CSVRowIssue {
        CSVRowIssue(
            line: line, column: nil, code: "csv_malformed",
            vi: "Dòng không đúng định dạng CSV (có thể thiếu dấu ngoặc kép đóng).",
            en: "The row is not valid CSV (perhaps a closing double quote is missing)."
        )
    }

    private static func missingColumns(_ missing: [String]) -> CSVRowIssue {
        let list = missing.joined(separator: ", ")
        return CSVRowIssue(
            line: 1, column: missing.first, code: "csv_missing_column",
            vi: "Dòng tiêu đề thiếu cột bắt buộc: \(list).",
            en: "The header row lacks required column(s): \(list)."
        )
    }
}

/// Rows written as CSV text: quoted where needed, CRLF between rows.
public enum CSVText {
    /// `rows` as CSV. With `forSpreadsheet`, a UTF-8 byte-order mark comes first (so spreadsheet
    /// programs read Vietnamese correctly) and a cell that a spreadsheet would run as a formula
    /// (`=`, `+`, `-`, `@`, tab, CR first) gets a leading apostrophe.
    public static func write(_ rows: [[String]], forSpreadsheet: Bool = false) -> String {
        let stream = OutputStream(toMemory: ())
        stream.open()
        do {
            let writer = try CSVWriter(stream: stream, newline: .crlf)
            for row in rows {
                try writer.write(row: forSpreadsheet ? row.map(neutralised) : row)
            }
        } catch {
            // A memory stream has no way to fail; keep what was written rather than trap in a server.
            assertionFailure("CSV write to memory failed: \(error)")
        }
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        stream.close()
        return (forSpreadsheet ? "\u{FEFF}" : "") + String(decoding: data, as: UTF8.self)
    }

    static func neutralised(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return cell }
        return "'" + cell
    }
}
