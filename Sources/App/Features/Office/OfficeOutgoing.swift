import EdXML
import Fluent
import Foundation
import GovCore
import OfficeRules
import Vapor

/// Outgoing documents (văn bản đi, Decree 30/2020 Art. 15–20): draft, approval by a leader,
/// numbering by the clerk only, the organisation's signature and sending through the hub, and
/// taking a sent document back.
extension OfficeService {
    /// The signing authority prefixes (Decree 30/2020 Appendix I).
    static let competences = ["", "TM.", "KT.", "TL.", "TUQ.", "Q."]

    struct Draft: Sendable {
        var typeCode: String
        var subject: String
        var content: String
        var signerName: String
        var signerPosition: String
        var competence: String
        /// Agencies reached through the hub.
        var recipients: [String]
        /// "Nơi nhận" as printed, one per line (paper recipients, "Lưu: VT").
        var places: String
        var urgency: Int
        var secret: Bool
        var files: [UploadedFile]
    }

    /// A specialist, leader or clerk drafts an outgoing document.
    func createDraft(_ draft: Draft, by actor: OfficeActor, directory: AgencyDirectory) async throws -> OfficeDocument {
        guard !actor.roles.isDisjoint(with: [.specialist, .leader, .clerk]) else {
            throw Self.roleMissing([.specialist, .leader, .clerk])
        }
        let type = try OfficeRules.DocumentType.require(draft.typeCode)
        let subject = try Self.required(draft.subject, field: "subject", vi: "trích yếu", en: "subject")
        let content = try Self.required(draft.content, field: "content", vi: "nội dung", en: "content", max: 100_000)
        guard Self.competences.contains(draft.competence) else {
            throw GovError("office_competence_invalid", .invalid,
                           vi: "Thẩm quyền ký phải là TM., KT., TL., TUQ., Q. hoặc để trống.",
                           en: "The signing authority must be TM., KT., TL., TUQ., Q. or empty.")
        }
        guard (0...4).contains(draft.urgency) else {
            throw GovError("office_urgency_invalid", .invalid, vi: "Độ khẩn không hợp lệ.", en: "Invalid urgency.")
        }
        let recipients = Array(Set(draft.recipients.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })).sorted()
        let known = try await directory.summaries(codes: Set(recipients))
        if let unknown = recipients.first(where: { known[$0] == nil || known[$0]?.state != .active }) {
            throw GovError("office_recipient_unknown", .invalid,
                           vi: "Nơi nhận \(unknown.prefix(40)) không có trong danh bạ hoặc không còn hoạt động.",
                           en: "Recipient \(unknown.prefix(40)) is not an active agency of the directory.")
        }
        guard !recipients.contains(actor.agencyCode) else {
            throw GovError("office_recipient_is_sender", .invalid, vi: "Cơ quan không gửi văn bản cho chính mình.",
                           en: "An agency does not send a document to itself.")
        }
        if draft.secret, !recipients.isEmpty {
            // QĐ 28/2018: documents with state secrets never go over the exchange platform.
            throw GovError("office_secret_not_electronic", .invalid,
                           vi: "Văn bản mật không được gửi qua trục liên thông; bỏ nơi nhận điện tử và gửi bản giấy.",
                           en: "Secret documents are not sent over the hub; remove the electronic recipients and send paper.")
        }
        for file in draft.files {
            try OfficeAttachmentPolicy.check(file)
        }
        return try await db.atomically { tx in
            let doc = OfficeDocument()
            doc.id = UUID()
            doc.agencyCode = actor.agencyCode
            doc.direction = .outgoing
            doc.state = OutgoingState.draft.rawValue
            doc.registerCode = Self.outgoingRegister
            doc.year = CivilDate.today().year
            doc.secret = draft.secret
            doc.typeCode = type.id
            doc.typeName = type.name
            doc.subject = subject
            doc.content = content
            doc.senderCode = actor.agencyCode
            doc.signerName = draft.signerName.trimmingCharacters(in: .whitespaces)
            doc.signerPosition = draft.signerPosition.trimmingCharacters(in: .whitespaces)
            doc.competence = draft.competence
            doc.urgency = draft.urgency
            doc.places = draft.places.trimmingCharacters(in: .whitespacesAndNewlines)
            doc.recipients = recipients.joined(separator: ",")
            doc.paper = recipients.isEmpty
            doc.createdBy = actor.username
            doc.searchText = Self.searchText(doc)
            try await doc.create(on: tx)
            for file in draft.files { try await Self.attach(file, to: doc, on: tx) }
            try await Self.record(doc, "outgoing.drafted", by: actor, on: tx)
            return doc
        }
    }

    /// A leader approves the draft for issue.
    func approve(_ id: UUID, by actor: OfficeActor) async throws {
        guard actor.roles.contains(.leader) else { throw Self.roleMissing([.leader]) }
        try await outgoingStep(id, from: [.draft], to: .approved, action: "outgoing.approved", by: actor) { doc, _ in
            doc.approvedBy = actor.username
        }
    }

    /// The clerk, and only the clerk, gives the approved document its number in the outgoing
    /// register: `12/QĐ-UBND`, or `45/UBND-VP` for a công văn; secret documents in their own series.
    func assignNumber(_ id: UUID, agencyAbbreviation: String, unitAbbreviation: String?, by actor: OfficeActor,
                      today: CivilDate = CivilDate.today()) async throws -> OfficeDocument {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        return try await outgoingStep(id, from: [.approved], to: .numbered, action: "outgoing.numbered", by: actor) { doc, tx in
            let type = try OfficeRules.DocumentType.require(doc.typeCode)
            let unit = unitAbbreviation.flatMap { $0.isEmpty ? nil : $0 }
            // Check the notation before taking a number, so a typo does not use one up.
            _ = try DocumentNumber(number: 1, type: type, agency: agencyAbbreviation, unit: unit)
            let series = NumberSeries(register: Self.outgoingRegister, date: today, secret: doc.secret)
            let number = try await Self.nextNumber(agency: doc.agencyCode, series: series, on: tx)
            let full = try DocumentNumber(number: number, type: type, agency: agencyAbbreviation, unit: unit)
            doc.registerCode = series.register
            doc.year = series.year
            doc.regNumber = number
            doc.codeNumber = number < 10 ? "0\(number)" : String(number)
            doc.codeNotation = full.notation
            doc.promulgationDate = today.iso
            doc.numberedBy = actor.username
        }
    }

    /// The clerk issues the numbered document: to the hub for electronic recipients (signed with
    /// the organisation's key when the outbox sends it), and done for paper-only ones.
    /// The sender and recipients are named as the agency directory has them.
    func send(_ id: UUID, by actor: OfficeActor) async throws {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        try await outgoingStep(id, from: [.numbered], to: .sent, action: "outgoing.sent", by: actor) { doc, tx in
            doc.sentAt = Date()
            guard !doc.recipientCodes.isEmpty else { return }
            let files = try await OfficeAttachment.query(on: tx).filter(\.$document.$id == doc.requireID()).all()
            let names = try await AgencyDirectory(db: tx).summaries(codes: Set(doc.recipientCodes + [doc.agencyCode]))
            var spec = DocumentSpec(
                from: Organization(organId: doc.agencyCode, organName: names[doc.agencyCode]?.name),
                to: doc.recipientCodes.map { Organization(organId: $0, organName: names[$0]?.name) },
                codeNumber: doc.codeNumber ?? "", codeNotation: doc.codeNotation ?? "", typeName: doc.typeName,
                subject: doc.subject)
            spec.content = doc.content
            spec.promulgationDate = doc.promulgationDate.flatMap { try? CivilDate(parsing: $0) }?.edxml
            spec.signer = SignerInfo(competence: doc.competence.flatMap { $0.isEmpty ? nil : $0 }, position: doc.signerPosition,
                                     fullName: doc.signerName)
            spec.toPlaces = doc.places.map { $0.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            spec.priority = Priority(rawValue: doc.urgency)
            spec.staff = StaffInfo(department: actor.unit, staff: actor.fullName)
            spec.files = files.map { DocumentSpec.File(name: $0.name, contentType: $0.contentType, data: $0.data) }
            var message = EdXMLBuilder.document(spec)
            if let replacedID = doc.replacesID, let replaced = try await OfficeDocument.find(replacedID, on: tx),
               let replacedDocumentID = replaced.edxmlDocumentID {
                message = EdXMLBuilder.replacement(spec, replacing: [replacedDocumentID],
                                                   reason: "Thay thế văn bản \(replaced.displayNumber ?? replacedDocumentID)")
                replaced.revocation = "replaced"
                try await replaced.update(on: tx)
                try await Self.record(replaced, "outgoing.replaced", note: doc.displayNumber, by: actor, on: tx)
            }
            let bytes = try EdXMLWriter.write(.document(message))
            doc.edxmlDocumentID = message.header.documentId
            doc.edxml = bytes
            try await Self.enqueue("document", payload: bytes, agency: doc.agencyCode, document: doc.id, on: tx)
        }
    }

    /// The clerk asks every recipient to give a sent document back (status 13 with the reason);
    /// their 15 or 16 comes back into the matrix.
    func revoke(_ id: UUID, reason: String, by actor: OfficeActor) async throws {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        let why = try Self.required(reason, field: "reason", vi: "lý do thu hồi", en: "reason for revoking", max: 900)
        try await db.atomically { tx in
            guard let doc = try await OfficeDocument.find(id, on: tx), doc.agencyCode == actor.agencyCode,
                  doc.direction == .outgoing else { throw Self.notFound }
            guard doc.state == OutgoingState.sent.rawValue, doc.revocation == nil, let bytes = doc.edxml,
                  !doc.recipientCodes.isEmpty else { throw Self.stepNotAllowed(doc.state) }
            guard case .document(let original) = try EdXMLReader.read(bytes).message else { throw Self.stepNotAllowed(doc.state) }
            doc.revocation = "requested"
            try await doc.update(on: tx)
            try await Self.record(doc, "outgoing.revocation_requested", note: why, by: actor, on: tx)
            for recipient in doc.recipientCodes {
                let status = EdXMLBuilder.status(.revokeRequest, for: original, from: Organization(organId: doc.agencyCode),
                                                 receiver: recipient, description: why,
                                                 staff: StaffInfo(department: actor.unit, staff: actor.fullName))
                try await Self.enqueue("status", payload: try EdXMLWriter.write(.status(status)), agency: doc.agencyCode,
                                       document: doc.id, on: tx)
            }
        }
    }

    /// The clerk sends the recipients a correction of a sent document's subject or content
    /// (an edXML update); each recipient applies it and answers 15.
    func sendUpdate(_ id: UUID, subject: String, content: String, reason: String, by actor: OfficeActor) async throws {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        let newSubject = try Self.required(subject, field: "subject", vi: "trích yếu", en: "subject")
        let newContent = try Self.required(content, field: "content", vi: "nội dung", en: "content", max: 100_000)
        let why = try Self.required(reason, field: "reason", vi: "lý do cập nhật", en: "reason for the update", max: 900)
        try await db.atomically { tx in
            guard let doc = try await OfficeDocument.find(id, on: tx), doc.agencyCode == actor.agencyCode,
                  doc.direction == .outgoing else { throw Self.notFound }
            guard doc.state == OutgoingState.sent.rawValue, doc.revocation == nil, let bytes = doc.edxml,
                  !doc.recipientCodes.isEmpty, case .document(let original) = try EdXMLReader.read(bytes).message else {
                throw Self.stepNotAllowed(doc.state)
            }
            let update = EdXMLBuilder.update(of: original, reason: why,
                                             staff: StaffInfo(department: actor.unit, staff: actor.fullName)) { message in
                message.header.subject = newSubject
                message.header.content = newContent
            }
            doc.subject = newSubject
            doc.content = newContent
            doc.searchText = Self.searchText(doc)
            try await doc.update(on: tx)
            try await Self.record(doc, "outgoing.update_sent", note: why, by: actor, on: tx)
            try await Self.enqueue("document", payload: try EdXMLWriter.write(.document(update)), agency: doc.agencyCode,
                                   document: doc.id, on: tx)
        }
    }

    /// The clerk starts a replacement of a sent document: a new draft with the same fields that,
    /// once approved, numbered and sent, replaces the old one at every recipient.
    func startReplacement(of id: UUID, by actor: OfficeActor) async throws -> OfficeDocument {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        return try await db.atomically { tx in
            guard let old = try await OfficeDocument.find(id, on: tx), old.agencyCode == actor.agencyCode,
                  old.direction == .outgoing else { throw Self.notFound }
            guard old.state == OutgoingState.sent.rawValue, old.revocation == nil, old.edxmlDocumentID != nil else {
                throw Self.stepNotAllowed(old.state)
            }
            let doc = OfficeDocument()
            doc.id = UUID()
            doc.agencyCode = old.agencyCode
            doc.direction = .outgoing
            doc.state = OutgoingState.draft.rawValue
            doc.registerCode = Self.outgoingRegister
            doc.year = CivilDate.today().year
            doc.secret = old.secret
            doc.typeCode = old.typeCode
            doc.typeName = old.typeName
            doc.subject = old.subject
            doc.content = old.content
            doc.senderCode = old.senderCode
            doc.signerName = old.signerName
            doc.signerPosition = old.signerPosition
            doc.competence = old.competence
            doc.urgency = old.urgency
            doc.places = old.places
            doc.recipients = old.recipients
            doc.paper = old.paper
            doc.createdBy = actor.username
            doc.replacesID = old.id
            doc.searchText = Self.searchText(doc)
            try await doc.create(on: tx)
            for file in try await OfficeAttachment.query(on: tx).filter(\.$document.$id == id).all() {
                try await Self.attach(UploadedFile(name: file.name, contentType: file.contentType, data: file.data), to: doc, on: tx)
            }
            try await Self.record(doc, "outgoing.drafted", note: "Thay thế \(old.displayNumber ?? "")", by: actor, on: tx)
            return doc
        }
    }

    @discardableResult
    private func outgoingStep(_ id: UUID, from: Set<OutgoingState>, to: OutgoingState, action: String, by actor: OfficeActor,
                              change: @escaping @Sendable (OfficeDocument, any Database) async throws -> Void) async throws -> OfficeDocument {
        try await db.atomically { tx in
            guard let doc = try await OfficeDocument.find(id, on: tx), doc.agencyCode == actor.agencyCode,
                  doc.direction == .outgoing, Self.canSee(doc, actor) else { throw Self.notFound }
            guard let state = OutgoingState(rawValue: doc.state), from.contains(state) else { throw Self.stepNotAllowed(doc.state) }
            try await change(doc, tx)
            doc.state = to.rawValue
            doc.searchText = Self.searchText(doc)
            try await doc.update(on: tx)
            try await Self.record(doc, action, note: doc.displayNumber, by: actor, on: tx)
            return doc
        }
    }

    /// The abbreviation an agency's notations carry, guessed from its directory entry: its short
    /// name when that is one word ("VPCP"), "UBND" for a People's Committee, else the initials.
    static func notationAbbreviation(name: String, shortName: String?) -> String {
        if let short = shortName, !short.contains(" "), !short.isEmpty { return short }
        if name.hasPrefix("Ủy ban nhân dân") || name.hasPrefix("Uỷ ban nhân dân") { return "UBND" }
        return name.split(separator: " ").compactMap { $0.first.map { String($0).uppercased() } }.joined()
    }
}
