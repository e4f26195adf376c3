import EdXML
import Fluent
import Foundation
import GovCore
import OfficeRules
import Vapor

/// What the office does with one message fetched from the hub.
extension OfficeService {
    /// The outcome of taking a hub message in, for the acknowledgement.
    enum Intake: Equatable {
        /// Stored (or already stored by an earlier fetch): acknowledge as done.
        case done
        /// Unusable: acknowledge as failed with this reason, which the sender reads.
        case refused(String)
    }

    /// Takes in a message the hub delivered to `agency`. Nothing is trusted because the hub
    /// relayed it (the hub may be remote, over plain HTTP): `signature` is the verdict on the
    /// message's own signature against the seal of the agency it claims to come from, and every
    /// kind of message needs an acceptable one.
    ///
    /// A new document is stored as arrived and answers 01; one that fails validation or its
    /// signature check is kept for audit as rejected and answers 02 with the reason. A revocation
    /// or update that fails its check is not applied: it is kept for audit with the reason, the
    /// document concerned answers 16 (the workflow's refusal of a revocation or update; a 02 would
    /// refuse the original document) and the hub is told it failed. A status that fails is not
    /// applied, kept for audit and acknowledged as failed. A status about a sent document fills
    /// its recipient matrix; a revocation (13, or a revocation document) waits for the clerk's
    /// 15/16. Fetching the same hub message again changes nothing.
    /// `parsed` is `bytes` already read (the worker reads it once to know whose seal to check); nil
    /// reads it here.
    func intake(hubMessageID: UUID, bytes: Data, parsed: ParsedEdXML? = nil, agency: String, signature: SignatureReport?,
                today: CivilDate = CivilDate.today()) async throws -> Intake {
        do {
            return try await intakeOnce(hubMessageID: hubMessageID, bytes: bytes, parsed: parsed, agency: agency,
                                        signature: signature, today: today)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Another node stored the same hub message (or status) a moment earlier: it is in.
            return .done
        }
    }

    /// The fields of the incoming register (Decree 30/2020) a document must carry to be
    /// registered; the codec only warns when they are missing.
    static let registerFields: Set<String> = [
        "MessageHeader/Code/CodeNumber", "MessageHeader/Code/CodeNotation", "MessageHeader/PromulgationInfo/PromulgationDate",
        "MessageHeader/DocumentType/TypeName", "MessageHeader/Subject",
    ]

    /// Why `signature` does not let the message in; nil when it does.
    static func signatureProblem(_ signature: SignatureReport?) -> String? {
        guard let signature else { return "signature_not_checked: chữ ký số chưa được kiểm tra / the signature was not checked" }
        guard !signature.isAcceptable else { return nil }
        return "\(signature.code ?? "signature_invalid"): \(signature.messageVI ?? "chữ ký số không hợp lệ")"
            + (signature.messageEN.map { " / \($0)" } ?? "")
    }

    private func intakeOnce(hubMessageID: UUID, bytes: Data, parsed alreadyParsed: ParsedEdXML?, agency: String,
                            signature: SignatureReport?, today: CivilDate) async throws -> Intake {
        let parsed: ParsedEdXML
        if let alreadyParsed {
            parsed = alreadyParsed
        } else {
            do {
                parsed = try EdXMLReader.read(bytes)
            } catch {
                return .refused("edXML không đọc được / unreadable edXML: \(error.code)")
            }
        }
        let hubID = hubMessageID.uuidString.lowercased()
        let unverified = Self.signatureProblem(signature)
        switch parsed.message {
        case .status(let status):
            if let unverified {
                return try await refuse(parsed.message, bytes: bytes, hubID: hubID, agency: agency, reason: unverified)
            }
            return try await intakeStatus(status, hubID: hubID, agency: agency)
        case .document(let message):
            let type = message.business?.docType ?? .new
            switch type {
            case .revocation, .update:
                if let unverified {
                    return try await refuse(parsed.message, bytes: bytes, hubID: hubID, agency: agency, reason: unverified)
                }
                let target = Self.target(of: message)
                if type == .revocation {
                    return try await intakeRevocation(documentID: target, from: message.header.from.organId,
                                                      reason: message.business?.businessDocReason, agency: agency)
                }
                return try await intakeUpdate(message, target: target, agency: agency)
            case .new, .replacement:
                let report = parsed.validate()
                var problems = report.errors.map { "\($0.code): \($0.vi)" }
                problems += report.warnings.filter { $0.code == "element_missing" && Self.registerFields.contains($0.path) }
                    .map { "\($0.code): \($0.vi)" }
                if let unverified { problems.append(unverified) }
                return try await intakeDocument(message, bytes: bytes, hubID: hubID, agency: agency, problems: problems,
                                                replacement: type == .replacement, today: today)
            }
        }
    }

    /// The document a revocation or update is about, as the hub routed it: `Bussiness/DocumentId`,
    /// or `MessageHeader/DocumentId` as the VPCP SDK sends it.
    static func target(of message: DocumentMessage) -> String? {
        (try? RoutingInfo(.document(message)))?.targetDocumentId ?? message.header.documentId
    }

    /// Keeps a revocation, update or status whose signature failed, with its bytes and the reason,
    /// without applying it; a refused revocation or update answers 16 about the document concerned.
    private func refuse(_ message: EdXMLMessage, bytes: Data, hubID: String, agency: String, reason: String) async throws -> Intake {
        let actor = OfficeActor.worker(agency: agency)
        let reason = String(reason.prefix(900))
        return try await db.atomically { tx in
            if let earlier = try await OfficeRefusedMessage.query(on: tx).filter(\.$agencyCode == agency)
                .filter(\.$hubMessageID == hubID).first() {
                return .refused(earlier.reason)
            }
            let row = OfficeRefusedMessage()
            row.agencyCode = agency
            row.hubMessageID = hubID
            row.reason = reason
            row.edxml = bytes
            var answered: OfficeDocument?
            var change = "update"
            switch message {
            case .status(let status):
                row.kind = "status"
                row.statusCode = status.statusCode
                row.senderCode = status.from.organId
                row.documentID = status.responseFor.documentId
            case .document(let document):
                row.kind = "document"
                row.businessType = document.business?.businessDocType
                row.senderCode = document.header.from.organId
                row.documentID = Self.target(of: document)
                if document.business?.docType == .revocation { change = "revocation" }
                if let id = row.documentID {
                    answered = try await OfficeDocument.query(on: tx).filter(\.$agencyCode == agency)
                        .filter(\.$direction == .incoming).filter(\.$edxmlDocumentID == id)
                        .filter(\.$senderCode == row.senderCode).first()
                }
            }
            try await row.create(on: tx)
            try await AuditLog.append("office.intake_refused", entity: "office_refused_message",
                                      id: row.id?.uuidString.lowercased(),
                                      details: ["hub_message": hubID, "kind": row.kind, "sender": row.senderCode,
                                                "document_id": row.documentID ?? "", "status_code": row.statusCode ?? "",
                                                "business_type": row.businessType ?? "", "reason": String(reason.prefix(200))],
                                      agencyCode: agency, by: actor.audit, on: tx)
            if let doc = answered {
                try await Self.record(doc, "incoming.\(change)_refused", note: reason, by: actor, on: tx)
                try await Self.enqueueStatus(.revokeRefused, for: doc, description: "Không áp dụng / not applied: " + reason,
                                             by: actor, on: tx)
            }
            return .refused(reason)
        }
    }

    private func intakeDocument(_ message: DocumentMessage, bytes: Data, hubID: String, agency: String, problems: [String],
                                replacement: Bool, today: CivilDate) async throws -> Intake {
        let actor = OfficeActor.worker(agency: agency)
        return try await db.atomically { tx in
            if try await OfficeDocument.query(on: tx).filter(\.$agencyCode == agency).filter(\.$hubMessageID == hubID).first() != nil {
                return .done
            }
            let header = message.header
            let doc = OfficeDocument()
            doc.id = UUID()
            doc.agencyCode = agency
            doc.direction = .incoming
            doc.state = problems.isEmpty ? IncomingState.arrived.rawValue : IncomingState.rejected.rawValue
            doc.registerCode = Self.incomingRegister
            doc.year = today.year
            doc.secret = false
            doc.codeNumber = header.code?.codeNumber
            doc.codeNotation = header.code?.codeNotation
            doc.arrivalDate = today.iso
            let typeCode = header.documentType?.typeDetail ?? header.documentType?.type ?? ""
            let known = OfficeRules.DocumentType.named(typeCode)
                ?? OfficeRules.DocumentType.all.first { $0.abbreviation != nil && header.code?.codeNotation?.hasPrefix($0.abbreviation! + "-") == true }
            doc.typeCode = known?.id ?? "CV"
            doc.typeName = header.documentType?.typeName ?? known?.name ?? "Văn bản"
            doc.subject = String((header.subject ?? "").prefix(2000))
            doc.content = String((header.content ?? header.subject ?? "").prefix(20000))
            doc.senderCode = header.from.organId
            doc.senderName = header.from.organName ?? header.from.organId
            doc.signerName = header.signerInfo?.fullName
            doc.signerPosition = header.signerInfo?.position
            doc.competence = header.signerInfo?.competence
            doc.promulgationDate = header.promulgationInfo?.promulgationDate.flatMap(EdXMLTime.parseDate)?.iso
            doc.urgency = header.otherInfo?.priority.flatMap { Int($0) } ?? 0
            doc.places = header.toPlaces?.joined(separator: "\n")
            doc.recipients = header.to.map(\.organId).joined(separator: ",")
            doc.paper = false
            doc.hubMessageID = hubID
            doc.edxmlDocumentID = header.documentId
            doc.edxml = bytes
            doc.checkNote = problems.isEmpty ? nil : problems.joined(separator: "\n")
            doc.rejectionReason = problems.isEmpty ? nil : "Văn bản không hợp lệ / invalid document: " + problems.joined(separator: "; ")
            if let deadline = header.dueDate.flatMap(EdXMLTime.parseDate) { doc.deadline = deadline.iso }
            doc.searchText = Self.searchText(doc)
            try await doc.create(on: tx)
            for attachment in message.attachments {
                guard let data = attachment.content else { continue }
                try await Self.attach(UploadedFile(name: attachment.attachmentName ?? "tep", contentType: attachment.contentType ?? "application/octet-stream",
                                                   data: data), to: doc, on: tx)
            }
            if problems.isEmpty {
                try await Self.record(doc, "incoming.arrived", note: replacement ? "Văn bản thay thế / replacement" : nil, by: actor, on: tx)
                try await Self.enqueueStatus(.arrived, for: doc, by: actor, on: tx)
                if replacement, let replaced = message.business?.replacementInfoList {
                    for info in replaced {
                        guard let old = info.documentId,
                              let previous = try await OfficeDocument.query(on: tx).filter(\.$agencyCode == agency)
                                .filter(\.$edxmlDocumentID == old).filter(\.$direction == .incoming).first() else { continue }
                        previous.revocation = "replaced"
                        try await previous.update(on: tx)
                        try await Self.record(previous, "incoming.replaced", note: header.documentId, by: actor, on: tx)
                    }
                }
            } else {
                try await Self.record(doc, "incoming.rejected_on_arrival", note: doc.checkNote, by: actor, on: tx)
                try await Self.enqueueStatus(.refused, for: doc, description: String(doc.rejectionReason!.prefix(900)), by: actor, on: tx)
            }
            return .done
        }
    }

    private func intakeStatus(_ status: StatusMessage, hubID: String, agency: String) async throws -> Intake {
        guard let documentID = status.responseFor.documentId, let code = StatusCode(rawValue: status.statusCode) else {
            return .refused("Gói tin trạng thái thiếu mã văn bản hoặc mã trạng thái / status without document id or code")
        }
        if code == .revokeRequest {
            return try await intakeRevocation(documentID: documentID, from: status.from.organId, reason: status.description,
                                              agency: agency)
        }
        let actor = OfficeActor.worker(agency: agency)
        return try await db.atomically { tx in
            guard let doc = try await OfficeDocument.query(on: tx).filter(\.$agencyCode == agency)
                .filter(\.$direction == .outgoing).filter(\.$edxmlDocumentID == documentID).first() else {
                // Not ours (any more): nothing to fill in, and the hub need not send it again.
                return .done
            }
            if try await OfficeStatus.query(on: tx).filter(\.$document.$id == doc.requireID())
                .filter(\.$hubMessageID == hubID).first() != nil { return .done }
            let row = OfficeStatus()
            row.$document.id = try doc.requireID()
            row.agencyCode = status.from.organId
            row.code = code.rawValue
            row.statusDescription = status.description
            row.hubMessageID = hubID
            row.at = Date()
            try await row.create(on: tx)
            if code == .revokeAccepted, doc.revocation == "requested" {
                let statuses = try await OfficeStatus.query(on: tx).filter(\.$document.$id == doc.requireID()).all()
                let agreed = Set(statuses.filter { $0.code == StatusCode.revokeAccepted.rawValue }.map(\.agencyCode))
                if Set(doc.recipientCodes).isSubset(of: agreed) {
                    doc.revocation = "agreed"
                    doc.state = OutgoingState.revoked.rawValue
                    doc.searchText = Self.searchText(doc)
                    try await doc.update(on: tx)
                }
            }
            try await Self.record(doc, "outgoing.status_\(code.rawValue)", note: status.from.organId, by: actor, on: tx)
            return .done
        }
    }

    private func intakeRevocation(documentID: String?, from sender: String, reason: String?, agency: String) async throws -> Intake {
        guard let documentID else { return .refused("Yêu cầu thu hồi thiếu mã văn bản / revocation without a document id") }
        let actor = OfficeActor.worker(agency: agency)
        return try await db.atomically { tx in
            guard let doc = try await OfficeDocument.query(on: tx).filter(\.$agencyCode == agency)
                .filter(\.$direction == .incoming).filter(\.$edxmlDocumentID == documentID).filter(\.$senderCode == sender).first() else {
                return .refused("Không có văn bản \(documentID) để thu hồi / no document \(documentID) to revoke")
            }
            guard doc.revocation != "requested" else { return .done }
            doc.revocation = "requested"
            try await doc.update(on: tx)
            try await Self.record(doc, "incoming.revocation_requested", note: reason, by: actor, on: tx)
            return .done
        }
    }

    private func intakeUpdate(_ message: DocumentMessage, target: String?, agency: String) async throws -> Intake {
        guard let documentID = target else { return .refused("Văn bản cập nhật thiếu mã / update without a document id") }
        let actor = OfficeActor.worker(agency: agency)
        return try await db.atomically { tx in
            guard let doc = try await OfficeDocument.query(on: tx).filter(\.$agencyCode == agency)
                .filter(\.$direction == .incoming).filter(\.$edxmlDocumentID == documentID)
                .filter(\.$senderCode == message.header.from.organId).first() else {
                return .refused("Không có văn bản \(documentID) để cập nhật / no document \(documentID) to update")
            }
            if let subject = message.header.subject, !subject.isEmpty { doc.subject = String(subject.prefix(2000)) }
            if let content = message.header.content, !content.isEmpty { doc.content = String(content.prefix(20000)) }
            doc.searchText = Self.searchText(doc)
            try await doc.update(on: tx)
            try await Self.record(doc, "incoming.updated", note: message.business?.businessDocReason, by: actor, on: tx)
            // The update is applied as sent; the sender learns it arrived with 15.
            try await Self.enqueueStatus(.revokeAccepted, for: doc, description: "Đã cập nhật theo yêu cầu / updated as asked",
                                         by: actor, on: tx)
            return .done
        }
    }
}
