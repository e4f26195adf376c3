import Foundation
import GovCore
import Vapor

extension Request {
    /// An optional trimmed text parameter from the query string.
    func queryText(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let raw = query[String.self, at: name] else { return nil }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= maxLength else {
            throw GovError("query_too_long", .invalid,
                           vi: "Tham số \(name) quá dài (tối đa \(maxLength) ký tự).",
                           en: "Parameter \(name) is too long (at most \(maxLength) characters).")
        }
        return text.isEmpty ? nil : text
    }

    /// An integer query parameter within `range`; a present but bad value is a 400, not a default.
    func queryInt(_ name: String, default def: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = query[String.self, at: name], !raw.isEmpty else { return def }
        guard let value = Int(raw), range.contains(value) else {
            throw GovError("query_invalid", .invalid,
                           vi: "Tham số \(name) phải là số nguyên từ \(range.lowerBound) đến \(range.upperBound).",
                           en: "Parameter \(name) must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }
}

/// Links to neighbouring pages that keep the current filters.
struct Pager: Encodable {
    var page: Int
    var pageCount: Int
    var total: Int
    var prevURL: String?
    var nextURL: String?

    init(path: String, page: Int, perPage: Int, total: Int, params: [String: String?]) {
        self.page = page
        self.pageCount = max(1, (total + perPage - 1) / perPage)
        self.total = total
        func url(_ target: Int) -> String {
            var components = URLComponents()
            components.path = path
            var items = params.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
                .sorted { $0.name < $1.name }
            items.append(URLQueryItem(name: "page", value: String(target)))
            components.queryItems = items
            return components.string ?? path
        }
        prevURL = page > 1 ? url(page - 1) : nil
        nextURL = page < pageCount ? url(page + 1) : nil
    }
}
