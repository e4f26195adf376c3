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

    /// Takes in a message the hub delivered to `agency`. A new document is stored as arrived and
    /// answers 01; one that fails validation or its signature check is kept for audit as rejected and
    /// answers 02 with the reason. A status about a sent document fills its recipient matrix; a
    /// revocation (13, or a revocation document) waits for the clerk's 15/16. Fetching the same
    /// hub message again changes nothing.
    func intake(hubMessageID: UUID, bytes: Data, agency: String, signature: SignatureReport?,
                today: CivilDate = CivilDate.today()) async throws -> Intake {
        do {
            return try await intakeOnce(hubMessageID: hubMessageID, bytes: bytes, agency: agency, signature: signature, today: today)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Another node stored the same hub message (or status) a moment earlier: it is in.
            return .done
        }
    }

    private func intakeOnce(hubMessageID: UUID, bytes: Data, agency: String, signature: SignatureReport?,
                            today: CivilDate) async throws -> Intake {
        let parsed: ParsedEdXML
        do {
            parsed = try EdXMLReader.read(bytes)
        } catch {
            return .refused("edXML không đọc được / unreadable edXML: \(error.code)")
        }
        let hubID = hubMessageID.uuidString.lowercased()
        switch parsed.message {
        case .status(let status):
            return try await intakeStatus(status, hubID: hubID, agency: agency)
        case .document(let message):
            let type = message.business?.docType ?? .new
            switch type {
            case .revocation:
                return try await intakeRevocation(documentID: message.header.documentId, from: message.header.from.organId,
                                                  reason: message.business?.businessDocReason, agency: agency)
            case .update:
                return try await intakeUpdate(message, agency: agency)
            case .new, .replacement:
                let report = parsed.validate()
                var problems = report.errors.map { "\($0.code): \($0.vi)" }
                if let signature, !signature.isAcceptable {
                    problems.append("\(signature.code ?? "signature_invalid"): \(signature.messageVI ?? "chữ ký số không hợp lệ")")
                }
                return try await intakeDocument(message, bytes: bytes, hubID: hubID, agency: agency, problems: problems,
                                                replacement: type == .replacement, today: today)
            }
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

    private func intakeUpdate(_ message: DocumentMessage, agency: String) async throws -> Intake {
        guard let documentID = message.header.documentId else { return .refused("Văn bản cập nhật thiếu mã / update without a document id") }
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
