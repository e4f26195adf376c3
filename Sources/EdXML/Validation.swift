import Foundation
import GovCore

/// One finding about a message: where (`MessageHeader/To[2]/OrganId`), a stable code, and what
/// to do, in Vietnamese and English.
public struct EdXMLIssue: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Whether the message is refused for it or only flagged.
    public enum Severity: String, Sendable, Codable { case error, warning }

    /// Error or warning.
    public var severity: Severity
    /// The element path, 1-based indexes on repeated elements.
    public var path: String
    /// Stable code, e.g. `required_missing`.
    public var code: String
    /// Vietnamese message.
    public var vi: String
    /// English message.
    public var en: String

    /// An issue.
    public init(_ severity: Severity, _ path: String, _ code: String, vi: String, en: String) {
        self.severity = severity
        self.path = path
        self.code = code
        self.vi = vi
        self.en = en
    }

    public var description: String { "\(severity.rawValue) \(code) at \(path): \(en)" }
}

/// The outcome of validating a message.
public struct EdXMLReport: Sendable, Equatable, Codable {
    /// What makes the message unacceptable.
    public var errors: [EdXMLIssue]
    /// What is accepted but flagged (non-standard agency codes, SHA-1 signatures, …).
    public var warnings: [EdXMLIssue]

    /// A report of the given issues, sorted into errors and warnings.
    public init(_ issues: [EdXMLIssue] = []) {
        errors = issues.filter { $0.severity == .error }
        warnings = issues.filter { $0.severity == .warning }
    }

    /// True when there is no error (warnings allowed).
    public var isValid: Bool { errors.isEmpty }
}

/// The rules of QCVN 102:2016 that a receiving clerk or an integrating system can act on.
///
/// The rule (docs/edxml.md): an error is only what makes a message impossible to route — no
/// sender, no recipient, no document key, an unknown business type or status code, a document id
/// naming another sender, content that cannot be decoded. Every other deviation from the standard
/// is a warning: real VPCP messages are looser than the notes, and the hub must route what the
/// national hub routes.
public enum EdXMLValidator {
    /// Every code the validator and reader report as an error (reading itself refuses with an
    /// `EdXMLReadError` instead).
    public static let errorCodes = [
        "required_missing", "agency_code_invalid", "document_id_malformed", "document_id_mismatch",
        "business_doc_type_invalid", "receiver_type_invalid", "status_code_unknown", "status_wrong_side",
        "attachment_base64_invalid",
    ]

    /// Every code reported as a warning. `agency_code_invalid` and `document_id_malformed` are
    /// errors where the hub routes on the value and warnings elsewhere.
    public static let warningCodes = [
        "element_missing", "agency_code_nonstandard", "agency_code_invalid", "date_invalid", "timestamp_invalid",
        "number_invalid", "boolean_invalid", "flag_invalid", "email_implausible", "document_id_malformed",
        "document_id_date_invalid", "document_id_date_differs", "document_id_code_differs", "target_document_id_missing",
        "business_missing", "recipient_duplicate", "recipient_is_sender", "attachment_missing", "attachment_orphaned",
        "content_id_duplicate", "attachment_empty", "signature_missing", "signature_sha1", "element_unknown",
    ]

    /// Validates `message`; `readIssues` are problems the reader met (bad base64, unknown
    /// elements) and are merged into the report.
    public static func validate(_ message: EdXMLMessage, readIssues: [EdXMLIssue] = []) -> EdXMLReport {
        var rules = Rules()
        switch message {
        case .document(let document): rules.check(document)
        case .status(let status): rules.check(status)
        }
        return EdXMLReport(readIssues + rules.issues)
    }
}

private struct Rules {
    var issues: [EdXMLIssue] = []

    mutating func error(_ path: String, _ code: String, vi: String, en: String) {
        issues.append(EdXMLIssue(.error, path, code, vi: vi, en: en))
    }

    mutating func warning(_ path: String, _ code: String, vi: String, en: String) {
        issues.append(EdXMLIssue(.warning, path, code, vi: vi, en: en))
    }

    mutating func add(_ severity: EdXMLIssue.Severity, _ path: String, _ code: String, vi: String, en: String) {
        issues.append(EdXMLIssue(severity, path, code, vi: vi, en: en))
    }

    /// The value, trimmed, or an issue when it is missing or empty: an error (`required_missing`)
    /// for what the hub routes on (sender, recipients, the document's key, what the message does),
    /// a warning (`element_missing`) for what the standard requires but routing does not need.
    mutating func required(_ value: String?, _ path: String, routing: Bool = true) -> String? {
        if let text = value?.trimmed, !text.isEmpty { return text }
        if routing {
            error(path, "required_missing", vi: "Thiếu phần tử bắt buộc \(path).",
                  en: "The required element \(path) is missing or empty.")
        } else {
            warning(path, "element_missing", vi: "Thiếu phần tử \(path) mà quy chuẩn yêu cầu.",
                    en: "The element \(path), which the standard requires, is missing or empty.")
        }
        return nil
    }

    /// `required` for what routing does not need: a warning when missing.
    mutating func expected(_ value: String?, _ path: String) -> String? { required(value, path, routing: false) }

    /// An agency code. `routing` marks the codes the hub routes on (sender, recipients, receivers
    /// of an update, the party of a status): a code that cannot be one is an error there and a
    /// warning elsewhere.
    mutating func agencyCode(_ value: String?, _ path: String, required isRequired: Bool = true, routing: Bool = true) {
        let text: String?
        if isRequired {
            text = routing ? required(value, path) : expected(value, path)
        } else {
            text = value?.trimmed
        }
        guard let text, !text.isEmpty else { return }
        do {
            let code = try AgencyCode(validating: text)
            if !code.isStandard {
                warning(path, "agency_code_nonstandard",
                        vi: "Mã định danh \(text) không theo cấu trúc QĐ 20/2020 (DDD.DD.DD.LDD).",
                        en: "The agency code \(text) does not follow the QĐ 20/2020 format (DDD.DD.DD.LDD).")
            }
        } catch {
            add(routing ? .error : .warning, path, "agency_code_invalid", vi: "Mã định danh cơ quan không hợp lệ: \(text).",
                en: "Invalid agency code: \(text).")
        }
    }

    mutating func date(_ value: String?, _ path: String) {
        guard let text = value?.trimmed, !text.isEmpty else { return }
        if !EdXMLTime.isValidDate(text) {
            warning(path, "date_invalid", vi: "Ngày \(text) không hợp lệ (định dạng yyyy/MM/dd).",
                    en: "The date \(text) is not a valid yyyy/MM/dd date.")
        }
    }

    mutating func timestamp(_ value: String?, _ path: String) {
        guard let text = value?.trimmed, !text.isEmpty else { return }
        if !EdXMLTime.isValidTimestamp(text) {
            warning(path, "timestamp_invalid", vi: "Thời điểm \(text) không hợp lệ (định dạng yyyy/MM/dd HH:mm:ss).",
                    en: "The timestamp \(text) is not a valid yyyy/MM/dd HH:mm:ss time.")
        }
    }

    mutating func integer(_ value: String?, _ path: String, range: ClosedRange<Int>) {
        guard let text = value?.trimmed, !text.isEmpty else { return }
        guard let number = Int(text), range.contains(number) else {
            warning(path, "number_invalid",
                  vi: "Giá trị \(text) phải là số nguyên từ \(range.lowerBound) đến \(range.upperBound).",
                  en: "The value \(text) must be an integer from \(range.lowerBound) to \(range.upperBound).")
            return
        }
    }

    mutating func email(_ value: String?, _ path: String) {
        guard let text = value?.trimmed, !text.isEmpty else { return }
        if !EmailAddress.isPlausible(text) {
            warning(path, "email_implausible", vi: "Địa chỉ thư điện tử \(text) có vẻ không hợp lệ.",
                    en: "The e-mail address \(text) looks invalid.")
        }
    }

    mutating func organization(_ organization: Organization, _ path: String) {
        agencyCode(organization.organId, path + "/OrganId")
        email(organization.email, path + "/Email")
    }

    /// A document id in its three parts; returns them. `routing` marks ids the hub routes on
    /// (the message's own, the target of a revocation, update or replacement, the document a
    /// status answers): one that is missing or has no agency part is an error there. The date
    /// part is only ever a warning: the hub matches ids as opaque keys, and the VPCP SDK's own
    /// sample carries a 30 February.
    @discardableResult
    mutating func documentId(_ value: String?, _ path: String, required isRequired: Bool, routing: Bool = true) -> DocumentIdParts? {
        let text = isRequired ? required(value, path) : value?.trimmed
        guard let text, !text.isEmpty else { return nil }
        guard let parts = DocumentIdParts(text) else {
            add(routing ? .error : .warning, path, "document_id_malformed",
                vi: "Mã văn bản \(text) phải có dạng <mã cơ quan>,<yyyy/MM/dd>,<số>/<ký hiệu>.",
                en: "The document id \(text) must read <agency code>,<yyyy/MM/dd>,<number>/<notation>.")
            return nil
        }
        if !EdXMLTime.isValidDate(parts.date) {
            warning(path, "document_id_date_invalid",
                    vi: "Ngày trong mã văn bản \(text) không phải ngày có thật; mã được dùng nguyên văn.",
                    en: "The date inside the document id \(text) is not a real date; the id is used as it is.")
        }
        return parts
    }

    // MARK: Documents

    mutating func check(_ document: DocumentMessage) {
        let header = document.header
        let h = "MessageHeader"
        organization(header.from, h + "/From")
        if header.to.isEmpty {
            error(h + "/To", "required_missing", vi: "Văn bản phải có ít nhất một nơi nhận (To).",
                  en: "A document needs at least one recipient (To).")
        }
        var seen = Set<String>()
        for (index, to) in header.to.enumerated() {
            let path = "\(h)/To[\(index + 1)]"
            organization(to, path)
            let code = to.organId.trimmed
            if !code.isEmpty, !seen.insert(code).inserted {
                // The hub delivers once per agency whatever the list says.
                warning(path + "/OrganId", "recipient_duplicate", vi: "Nơi nhận \(code) bị lặp.",
                        en: "The recipient \(code) is listed twice.")
            }
            if code == header.from.organId.trimmed, !code.isEmpty {
                warning(path + "/OrganId", "recipient_is_sender", vi: "Cơ quan gửi cũng là nơi nhận.",
                        en: "The sender is also a recipient.")
            }
        }
        let number = expected(header.code?.codeNumber, h + "/Code/CodeNumber")
        let notation = expected(header.code?.codeNotation, h + "/Code/CodeNotation")
        let promulgated = expected(header.promulgationInfo?.promulgationDate, h + "/PromulgationInfo/PromulgationDate")
        date(promulgated, h + "/PromulgationInfo/PromulgationDate")
        _ = expected(header.documentType?.typeName, h + "/DocumentType/TypeName")
        _ = expected(header.subject, h + "/Subject")
        date(header.dueDate, h + "/DueDate")
        if let other = header.otherInfo {
            integer(other.priority, h + "/OtherInfo/Priority", range: 0...4)
            integer(other.promulgationAmount, h + "/OtherInfo/PromulgationAmount", range: 0...1_000_000)
            integer(other.pageAmount, h + "/OtherInfo/PageAmount", range: 0...1_000_000)
            if let direction = other.direction?.trimmed, !direction.isEmpty, !["true", "false", "0", "1"].contains(direction) {
                warning(h + "/OtherInfo/Direction", "boolean_invalid", vi: "Direction phải là true hoặc false.",
                        en: "Direction must be true or false.")
            }
        }
        integer(header.steeringType, h + "/SteeringType", range: 0...9)
        for (index, response) in header.responseFor.enumerated() {
            let path = "\(h)/ResponseFor[\(index + 1)]"
            agencyCode(response.organId, path + "/OrganId", required: false, routing: false)
            date(response.promulgationDate, path + "/PromulgationDate")
            documentId(response.documentId, path + "/DocumentId", required: false, routing: false)
        }
        // The id must name this document's sender: statuses find their document by it, so an id
        // naming another agency would take that agency's statuses. Its number and notation only
        // describe the document.
        if let parts = documentId(header.documentId, h + "/DocumentId", required: true) {
            let from = header.from.organId.trimmed
            if !from.isEmpty, parts.organId != from {
                error(h + "/DocumentId", "document_id_mismatch",
                      vi: "Mã văn bản ghi cơ quan \(parts.organId), khác cơ quan gửi \(from).",
                      en: "The document id names agency \(parts.organId), not the sender \(from).")
            }
            if let number, let notation, parts.codeNumber != number || parts.codeNotation != notation {
                warning(h + "/DocumentId", "document_id_code_differs",
                        vi: "Mã văn bản ghi số/ký hiệu \(parts.codeNumber)/\(parts.codeNotation), khác \(number)/\(notation).",
                        en: "The document id has number/notation \(parts.codeNumber)/\(parts.codeNotation), not \(number)/\(notation).")
            }
            // A warning only: the Government Office SDK's own sample differs here.
            if let promulgated, EdXMLTime.isValidDate(promulgated), parts.date != promulgated {
                warning(h + "/DocumentId", "document_id_date_differs",
                        vi: "Ngày trong mã văn bản (\(parts.date)) khác ngày ban hành (\(promulgated)).",
                        en: "The date in the document id (\(parts.date)) differs from the promulgation date (\(promulgated)).")
            }
        }
        for (index, trace) in document.traces.enumerated() {
            let path = "TraceHeaderList/TraceHeader[\(index + 1)]"
            agencyCode(trace.organId, path + "/OrganId", required: false, routing: false)
            timestamp(trace.timestamp, path + "/Timestamp")
        }
        checkBusiness(document.business, headerDocumentId: header.documentId)
        checkAttachments(document)
        checkSignature(document)
    }

    mutating func checkBusiness(_ business: Business?, headerDocumentId: String?) {
        let b = "TraceHeaderList/Bussiness"
        // Without a type the message is a new document (RoutingInfo): a revocation or update
        // that lost its block cannot pass for one, its DocumentId is taken already.
        guard let business else {
            warning(b, "business_missing", vi: "Thiếu khối Bussiness; gói tin được coi là văn bản mới.",
                    en: "The Bussiness block is missing; the message is taken as a new document.")
            return
        }
        guard let raw = business.businessDocType?.trimmed, !raw.isEmpty else {
            warning(b + "/BussinessDocType", "business_missing",
                    vi: "Thiếu BussinessDocType; gói tin được coi là văn bản mới.",
                    en: "BussinessDocType is missing; the message is taken as a new document.")
            return
        }
        guard let type = BusinessDocType(rawValue: raw) else {
            error(b + "/BussinessDocType", "business_doc_type_invalid",
                  vi: "BussinessDocType phải là 0 (mới), 1 (thu hồi), 2 (cập nhật) hoặc 3 (thay thế).",
                  en: "BussinessDocType must be 0 (new), 1 (revocation), 2 (update) or 3 (replacement).")
            return
        }
        switch type {
        case .new:
            // Nothing routes on it (the SDK's sample has a 30 February here).
            documentId(business.documentId, b + "/DocumentId", required: false, routing: false)
        case .revocation, .update:
            // The VPCP SDK names the target only in MessageHeader/DocumentId (its revocation
            // sample has no Bussiness/DocumentId); RoutingInfo falls back to it the same way.
            if let id = business.documentId?.trimmed, !id.isEmpty {
                documentId(id, b + "/DocumentId", required: false)
            } else if let own = headerDocumentId?.trimmed, !own.isEmpty {
                warning(b + "/DocumentId", "target_document_id_missing",
                        vi: "Không có Bussiness/DocumentId; văn bản được thu hồi/cập nhật là \(own) (MessageHeader/DocumentId).",
                        en: "No Bussiness/DocumentId; the revoked or updated document is \(own) (MessageHeader/DocumentId).")
            }
            if type == .update { checkUpdate(business.businessDocumentInfo, b + "/BussinessDocumentInfo") }
        case .replacement:
            let list = business.replacementInfoList ?? []
            if list.isEmpty {
                error(b + "/ReplacementInfoList", "required_missing",
                      vi: "Văn bản thay thế phải nêu văn bản bị thay thế (ReplacementInfoList).",
                      en: "A replacement must name the replaced documents (ReplacementInfoList).")
            }
            for (index, item) in list.enumerated() {
                let path = "\(b)/ReplacementInfoList/ReplacementInfo[\(index + 1)]"
                documentId(item.documentId, path + "/DocumentId", required: true)
                for (organIndex, organ) in item.organIds.enumerated() {
                    agencyCode(organ, "\(path)/OrganIdList/OrganId[\(organIndex + 1)]", routing: false)
                }
            }
        }
        if let staff = business.staffInfo { email(staff.email, b + "/StaffInfo/Email") }
    }

    mutating func checkUpdate(_ info: BusinessDocumentInfo?, _ path: String) {
        // Without it the update goes to the addressed recipients, no receiver changes.
        guard let info else {
            warning(path, "element_missing", vi: "Văn bản cập nhật nên có BussinessDocumentInfo.",
                    en: "An update should carry BussinessDocumentInfo.")
            return
        }
        for (value, name) in [(info.documentInfo, "DocumentInfo"), (info.documentReceiver, "DocumentReceiver")] {
            if let text = value?.trimmed, !text.isEmpty, text != "0", text != "1" {
                warning("\(path)/\(name)", "flag_invalid", vi: "\(name) phải là 0 hoặc 1.", en: "\(name) must be 0 or 1.")
            }
        }
        let receivers = info.receivers ?? []
        if info.documentReceiver?.trimmed == "1", receivers.isEmpty {
            warning(path + "/ReceiverList", "element_missing",
                    vi: "Đã báo thay đổi nơi nhận (DocumentReceiver=1) nhưng danh sách nơi nhận trống.",
                    en: "DocumentReceiver=1 announces a receiver change, but the receiver list is empty.")
        }
        var seen = Set<String>()
        for (index, receiver) in receivers.enumerated() {
            let rp = "\(path)/ReceiverList/Receiver[\(index + 1)]"
            agencyCode(receiver.organId, rp + "/OrganId")
            let type = receiver.receiverType?.trimmed ?? ""
            if type != "0", type != "1" {
                error(rp + "/ReceiverType", "receiver_type_invalid",
                      vi: "ReceiverType phải là 0 (bỏ nơi nhận) hoặc 1 (thêm nơi nhận).",
                      en: "ReceiverType must be 0 (remove a receiver) or 1 (add a receiver).")
            }
            let code = receiver.organId?.trimmed ?? ""
            if !code.isEmpty, !seen.insert(code).inserted {
                warning(rp + "/OrganId", "recipient_duplicate", vi: "Nơi nhận \(code) bị lặp trong danh sách cập nhật.",
                        en: "The receiver \(code) appears twice in the update.")
            }
        }
    }

    /// The manifest and the attachments: the hub forwards the bytes whatever they list, so a
    /// mismatch is flagged, not refused; content that is not base64 is (the reader's error).
    mutating func checkAttachments(_ document: DocumentMessage) {
        var manifestIDs: [String: Int] = [:]
        for (index, reference) in document.manifest.enumerated() {
            let path = "edXMLBody/edXMLManifest/Reference[\(index + 1)]"
            guard let id = expected(reference.contentId, path + "/ContentId") else { continue }
            if manifestIDs[id] != nil {
                warning(path + "/ContentId", "content_id_duplicate", vi: "ContentId \(id) bị lặp trong danh mục.",
                        en: "ContentId \(id) is listed twice in the manifest.")
            }
            manifestIDs[id] = index
        }
        var attachmentIDs = Set<String>()
        for (index, attachment) in document.attachments.enumerated() {
            let path = "AttachmentEncoded/Attachment[\(index + 1)]"
            guard let id = expected(attachment.contentId, path + "/ContentId") else { continue }
            if !attachmentIDs.insert(id).inserted {
                warning(path + "/ContentId", "content_id_duplicate", vi: "Hai tệp đính kèm cùng ContentId \(id).",
                        en: "Two attachments share ContentId \(id).")
            }
            if manifestIDs[id] == nil {
                warning(path + "/ContentId", "attachment_orphaned",
                        vi: "Tệp đính kèm \(id) không có trong danh mục (edXMLManifest).",
                        en: "Attachment \(id) is not listed in the manifest (edXMLManifest).")
            }
            if let content = attachment.content, content.isEmpty {
                warning(path + "/ContentTransferEncoded", "attachment_empty", vi: "Tệp đính kèm \(id) rỗng.",
                        en: "Attachment \(id) is empty.")
            }
        }
        for (id, index) in manifestIDs.sorted(by: { $0.value < $1.value }) where !attachmentIDs.contains(id) {
            warning("edXMLBody/edXMLManifest/Reference[\(index + 1)]/ContentId", "attachment_missing",
                    vi: "Danh mục nêu tệp \(id) nhưng không có tệp đính kèm tương ứng.",
                    en: "The manifest lists \(id) but no attachment carries it.")
        }
    }

    mutating func checkSignature(_ document: DocumentMessage) {
        // Whether an unsigned message is refused is the receiving deployment's policy (PKI);
        // the codec only flags it.
        guard let signature = document.signature else {
            warning("edXMLHeader/Signature", "signature_missing", vi: "Gói tin không có chữ ký số.",
                    en: "The message carries no digital signature.")
            return
        }
        let algorithms = signature.attributeValues(named: "Algorithm")
        if algorithms.contains(where: { $0.hasSuffix("rsa-sha1") || $0.hasSuffix("#sha1") || $0.hasSuffix("dsa-sha1") }) {
            warning("edXMLHeader/Signature", "signature_sha1",
                    vi: "Chữ ký dùng thuật toán SHA-1 đã lỗi thời; nên dùng SHA-256.",
                    en: "The signature uses the outdated SHA-1; SHA-256 is recommended.")
        }
    }

    // MARK: Statuses

    mutating func check(_ status: StatusMessage) {
        let h = "MessageHeader"
        organization(status.from, h + "/From")
        let r = h + "/ResponseFor"
        // Routed on for 13 (the receiver asked to give the document back), checked against the
        // document's sender for the others.
        agencyCode(status.responseFor.organId, r + "/OrganId", required: status.status == .revokeRequest)
        date(status.responseFor.promulgationDate, r + "/PromulgationDate")
        let parts = documentId(status.responseFor.documentId, r + "/DocumentId", required: true)
        _ = expected(status.timestamp, h + "/Timestamp")
        timestamp(status.timestamp, h + "/Timestamp")
        if let staff = status.staffInfo { email(staff.email, h + "/StaffInfo/Email") }
        guard let code = required(status.statusCode, h + "/StatusCode") else { return }
        guard let known = StatusCode(rawValue: code) else {
            error(h + "/StatusCode", "status_code_unknown",
                  vi: "Mã trạng thái \(code) không có trong quy chuẩn (01–06, 13, 15, 16).",
                  en: "Status code \(code) is not one of the standard's (01–06, 13, 15, 16).")
            return
        }
        // Who may say what: the document id names the original sender.
        let from = status.from.organId.trimmed
        guard let original = parts?.organId, !from.isEmpty else { return }
        switch known.sender {
        case .receiver where original == from:
            error(h + "/StatusCode", "status_wrong_side",
                  vi: "Trạng thái \(code) do nơi nhận gửi, nhưng cơ quan gửi trạng thái lại là cơ quan ban hành văn bản.",
                  en: "Status \(code) is sent by a receiver, but the sender of this status issued the document.")
        case .originalSender where original != from:
            error(h + "/StatusCode", "status_wrong_side",
                  vi: "Trạng thái 13 chỉ do cơ quan ban hành văn bản gửi.",
                  en: "Status 13 may only be sent by the agency that issued the document.")
        default:
            break
        }
    }
}

extension XMLFragment {
    /// Every value of attributes with this local name in the fragment.
    func attributeValues(named name: String) -> [String] {
        switch self {
        case .text: return []
        case .element(_, _, let attributes, let children):
            return attributes.filter { $0.first == name }.compactMap { $0.last }
                + children.flatMap { $0.attributeValues(named: name) }
        }
    }
}
