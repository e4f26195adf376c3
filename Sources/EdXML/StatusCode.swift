import Foundation
import GovCore

/// The processing statuses of QCVN 102 / QĐ 28/2018 that travel back through the hub.
public enum StatusCode: String, Sendable, CaseIterable, Codable {
    /// 01 — arrived: the receiving system has it, the clerk has not handled it yet.
    case arrived = "01"
    /// 02 — refused (returned to the sender).
    case refused = "02"
    /// 03 — accepted and registered in the incoming register.
    case accepted = "03"
    /// 04 — a leader assigned it for handling.
    case assigned = "04"
    /// 05 — being handled.
    case processing = "05"
    /// 06 — handling finished.
    case done = "06"
    /// 13 — the original sender asks to take the document back (revocation/update request).
    case revokeRequest = "13"
    /// 15 — the receiver agrees to the revocation or update.
    case revokeAccepted = "15"
    /// 16 — the receiver refuses the revocation or update.
    case revokeRefused = "16"

    /// Which side of an exchange may send a status.
    public enum Sender: String, Sendable, Codable {
        /// The agency that received the document.
        case receiver
        /// The agency that sent the document.
        case originalSender
    }

    /// Who may send this status.
    public var sender: Sender { self == .revokeRequest ? .originalSender : .receiver }

    /// The Government Office SDK's fixed description (Vietnamese, as the samples carry it).
    public var officialDescription: String {
        switch self {
        case .arrived: "Đã đến - Phần mềm QLVB đã nhận nhưng văn thư chưa xử lý"
        case .refused: "Từ chối không tiếp nhận văn bản điện tử"
        case .accepted: "Tiếp nhận văn bản điện tử, vào sổ văn bản đến của đơn vị"
        case .assigned: "Lãnh đạo: Phân công xử lý"
        case .processing: "Đang xử lý văn bản đến"
        case .done: "Văn thư: Ban hành văn bản đến, hoàn thành xử lý"
        case .revokeRequest: "Văn thư yêu cầu lấy lại văn bản điện tử kèm lý do"
        case .revokeAccepted: "Đồng ý yêu cầu cập nhật, lấy lại văn bản điện tử"
        case .revokeRefused: "Từ chối yêu cầu cập nhật, lấy lại văn bản điện tử"
        }
    }

    /// An English description for integrators.
    public var englishDescription: String {
        switch self {
        case .arrived: "Arrived: received by the document system, not yet handled by the clerk"
        case .refused: "Refused: the electronic document is not accepted"
        case .accepted: "Accepted and registered as incoming"
        case .assigned: "Assigned for handling by a leader"
        case .processing: "Being handled"
        case .done: "Handling finished"
        case .revokeRequest: "The sender asks to take the document back, with a reason"
        case .revokeAccepted: "The revocation or update is accepted"
        case .revokeRefused: "The revocation or update is refused"
        }
    }
}

/// The date and time formats of edXML: `yyyy/MM/dd` and `yyyy/MM/dd HH:mm:ss`, Vietnam time, no zone.
public enum EdXMLTime {
    /// `yyyy/MM/dd` of `date` in Vietnam.
    public static func date(_ date: Date) -> String {
        CivilDate(date).edxml
    }

    /// `yyyy/MM/dd HH:mm:ss` of `date` in Vietnam.
    public static func timestamp(_ date: Date) -> String {
        let c = VietnamTime.components(date)
        return String(format: "%04d/%02d/%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// Whether `text` is a real calendar date written `yyyy/MM/dd`.
    public static func isValidDate(_ text: String) -> Bool {
        parseDate(text) != nil
    }

    /// The date of a `yyyy/MM/dd` text, when it is exactly that form and a real date (the
    /// calendar rules are CivilDate's; edXML admits only this one spelling).
    public static func parseDate(_ text: String) -> CivilDate? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        return CivilDate(year: year, month: month, day: day)
    }

    /// Whether `text` is `yyyy/MM/dd HH:mm:ss` with a real date and time.
    public static func isValidTimestamp(_ text: String) -> Bool {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, parseDate(String(parts[0])) != nil else { return false }
        let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 3, time.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(time[0]), let m = Int(time[1]), let s = Int(time[2]) else { return false }
        return h < 24 && m < 60 && s < 60
    }
}

/// The parts of a `DocumentId` (`OrganId,yyyy/MM/dd,number/notation`).
public struct DocumentIdParts: Sendable, Equatable {
    /// The issuing agency's code.
    public var organId: String
    /// `yyyy/MM/dd`.
    public var date: String
    /// The number.
    public var codeNumber: String
    /// The notation.
    public var codeNotation: String

    /// Splits a document id; nil when it does not have the three parts and a `/` in the last.
    public init?(_ text: String) {
        let parts = text.trimmed.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let code = parts[2].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard code.count == 2, !parts[0].isEmpty, !code[0].isEmpty, !code[1].isEmpty else { return nil }
        organId = String(parts[0]).trimmed
        date = String(parts[1]).trimmed
        codeNumber = String(code[0]).trimmed
        codeNotation = String(code[1]).trimmed
    }

    /// The document id of the given parts.
    public static func make(organId: String, date: String, codeNumber: String, codeNotation: String) -> String {
        "\(organId),\(date),\(codeNumber)/\(codeNotation)"
    }
}
