import Fluent
import Foundation
import GovCore
import SQLKit

/// The registers (sổ văn bản đến/đi, Decree 30/2020 Appendix IV), the follow-up of deadlines and
/// the counts a clerk reports.
extension OfficeService {
    /// One line of a register: the columns of Appendix IV for its direction.
    struct RegisterRow: Encodable, Sendable {
        var id: String
        var regNumber: String
        var date: String
        var author: String
        var number: String
        var documentDate: String
        var typeAndSubject: String
        var handler: String
        var signer: String
        var recipients: String
        var note: String
    }

    /// The register of `direction` for `year`, in number order (the numbered documents only).
    func register(_ direction: OfficeDirection, year: Int, for actor: OfficeActor, limit: Int = 100_000) async throws -> [RegisterRow] {
        let docs = try await OfficeDocument.query(on: db).filter(\.$agencyCode == actor.agencyCode).filter(\.$direction == direction)
            .filter(\.$year == year).filter(\.$regNumber != nil).sort(\.$secret).sort(\.$regNumber).limit(limit).all()
        return docs.map { doc in
            RegisterRow(
                id: doc.id?.uuidString.lowercased() ?? "",
                regNumber: doc.regNumber.map { ($0 < 10 ? "0" : "") + String($0) + (doc.secret ? " (mật)" : "") } ?? "",
                date: (direction == .incoming ? doc.arrivalDate : doc.promulgationDate) ?? "",
                author: doc.senderName ?? doc.senderCode ?? "",
                number: doc.displayNumber ?? "",
                documentDate: doc.promulgationDate ?? "",
                typeAndSubject: "\(doc.typeName): \(doc.subject)",
                handler: [doc.leadUnit, doc.specialist].compactMap { $0 }.joined(separator: " / "),
                signer: [doc.competence, doc.signerPosition, doc.signerName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " "),
                recipients: ([doc.recipients.isEmpty ? nil : doc.recipients.replacingOccurrences(of: ",", with: ", "), doc.places]
                    .compactMap { $0 }.filter { !$0.isEmpty }).joined(separator: "; "),
                note: [doc.state, doc.revocation].compactMap { $0 }.joined(separator: ", "))
        }
    }

    /// The register as CSV for a spreadsheet (`CSVText.write(_:forSpreadsheet:)`).
    static func registerCSV(_ rows: [RegisterRow], direction: OfficeDirection) -> String {
        let header = direction == .incoming
            ? ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng", "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ghi chú"]
            : ["Số, ký hiệu", "Ngày tháng", "Tên loại và trích yếu nội dung", "Người ký", "Nơi nhận văn bản", "Ghi chú"]
        let cells = rows.map { row in
            direction == .incoming
                ? [row.date, row.regNumber, row.author, row.number, row.documentDate, row.typeAndSubject, row.handler, row.note]
                : [row.number, row.date, row.typeAndSubject, row.signer, row.recipients, row.note]
        }
        return CSVText.write([header] + cells, forSpreadsheet: true)
    }
}
