import GovCore

/// An administrative document type of Decree 30/2020/NĐ-CP (Art. 7, Appendix III), with the
/// abbreviation its notation carries. Mixed-case abbreviations (`QyĐ`, `CTr`, `TTr`, `TTh`) are
/// written exactly as the decree writes them.
public struct DocumentType: Hashable, Sendable, Identifiable {
    /// The abbreviation, or for the two types that have none (công văn, thư công) a stable key.
    public let id: String
    /// The type's name in Vietnamese, as printed above the subject ("QUYẾT ĐỊNH").
    public let name: String
    /// The abbreviation in the notation ("QĐ" in "12/QĐ-UBND"); nil for công văn and thư công,
    /// whose notation names the drafting unit instead.
    public let abbreviation: String?

    /// Whether the notation is `number/AGENCY-UNIT` (công văn style) rather than `number/TYPE-AGENCY`.
    public var usesUnitNotation: Bool { abbreviation == nil }

    init(_ name: String, _ abbreviation: String?, key: String? = nil) {
        self.id = abbreviation ?? key ?? name
        self.name = name
        self.abbreviation = abbreviation
    }

    /// The 29 types of Decree 30/2020, in the decree's order.
    public static let all: [DocumentType] = [
        .init("Nghị quyết", "NQ"), .init("Quyết định", "QĐ"), .init("Chỉ thị", "CT"),
        .init("Quy chế", "QC"), .init("Quy định", "QyĐ"), .init("Thông cáo", "TC"),
        .init("Thông báo", "TB"), .init("Hướng dẫn", "HD"), .init("Chương trình", "CTr"),
        .init("Kế hoạch", "KH"), .init("Phương án", "PA"), .init("Đề án", "ĐA"),
        .init("Dự án", "DA"), .init("Báo cáo", "BC"), .init("Biên bản", "BB"),
        .init("Tờ trình", "TTr"), .init("Hợp đồng", "HĐ"), .init("Công văn", nil, key: "CV"),
        .init("Công điện", "CĐ"), .init("Bản ghi nhớ", "GN"), .init("Bản thỏa thuận", "TTh"),
        .init("Giấy ủy quyền", "GUQ"), .init("Giấy mời", "GM"), .init("Giấy giới thiệu", "GGT"),
        .init("Giấy nghỉ phép", "GNP"), .init("Phiếu gửi", "PG"), .init("Phiếu chuyển", "PC"),
        .init("Phiếu báo", "PB"), .init("Thư công", nil, key: "THU"),
    ]

    /// Công văn: numbered `45/UBND-VP`.
    public static let officialLetter = all.first { $0.id == "CV" }!

    /// The type with this id (abbreviation, or `CV` / `THU`), matched exactly: `QĐ` and `QyĐ` differ.
    public static func named(_ id: String) -> DocumentType? {
        all.first { $0.id == id }
    }

    /// The type with this id, or `document_type_unknown` (400).
    public static func require(_ id: String) throws(GovError) -> DocumentType {
        guard let type = named(id) else {
            throw GovError("document_type_unknown", .invalid,
                           vi: "Loại văn bản \"\(id.prefix(20))\" không có trong Nghị định 30/2020.",
                           en: "Document type \"\(id.prefix(20))\" is not one of Decree 30/2020's types.")
        }
        return type
    }
}
