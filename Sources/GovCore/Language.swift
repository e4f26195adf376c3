/// A language the platform's user interface is offered in.
///
/// Vietnamese is the official language and therefore the default whenever the caller's preference is
/// unknown or unsupported.
public enum Language: String, Sendable, CaseIterable, Codable {
    /// Vietnamese.
    case vi
    /// English.
    case en

    /// The language used when nothing else is known.
    public static let `default`: Language = .vi

    /// Picks Vietnamese or English from an HTTP `Accept-Language` header by its q-values.
    ///
    /// Only the primary subtag counts (`en-US` is English). The supported language with the highest
    /// q wins; on a tie the one listed first wins. A wildcard `*` stands for Vietnamese unless Vietnamese
    /// is listed by itself. Absent, malformed, or only-unsupported headers give ``default``.
    public init(acceptLanguage header: String?) {
        guard let header, !header.isEmpty else {
            self = .default
            return
        }
        // (q, position) of the best explicit mention of each language, and of the wildcard.
        var best: [Language: (q: Double, position: Int)] = [:]
        var wildcard: (q: Double, position: Int)?
        // Bounded so a hostile header cannot make us do unbounded work.
        for (position, rawEntry) in header.split(separator: ",", omittingEmptySubsequences: true).prefix(64).enumerated() {
            let parts = rawEntry.split(separator: ";", omittingEmptySubsequences: false)
            guard let tagPart = parts.first else { continue }
            let tag = tagPart.trimmingCharacters(in: .whitespaces).lowercased()
            guard !tag.isEmpty else { continue }
            var q = 1.0
            var valid = true
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2 else { continue }
                let name = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
                guard name == "q" else { continue }
                let value = pair[1].trimmingCharacters(in: .whitespaces)
                if let parsed = Double(value), parsed.isFinite, parsed >= 0, parsed <= 1 {
                    q = parsed
                } else {
                    valid = false
                }
            }
            guard valid, q > 0 else { continue }
            if tag == "*" {
                if wildcard == nil || q > wildcard!.q { wildcard = (q, position) }
                continue
            }
            let primary = tag.split(separator: "-", maxSplits: 1).first.map(String.init) ?? tag
            guard let language = Language(rawValue: primary) else { continue }
            if let existing = best[language], existing.q >= q { continue }
            best[language] = (q, position)
        }
        if best[.vi] == nil, let wildcard {
            best[.vi] = wildcard
        }
        let ranked = best.sorted { lhs, rhs in
            if lhs.value.q != rhs.value.q { return lhs.value.q > rhs.value.q }
            return lhs.value.position < rhs.value.position
        }
        self = ranked.first?.key ?? .default
    }
}
