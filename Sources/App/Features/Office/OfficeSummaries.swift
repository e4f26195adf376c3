import Fluent
import Foundation
import GovCore

/// What other subsystems (work files, reports) may read about office documents: a summary, never
/// the tables.
extension OfficeService {
    /// A document as another subsystem shows it.
    struct DocumentSummary: Sendable, Encodable {
        var id: UUID
        /// "in" or "out".
        var direction: String
        /// The register number ("số đến" or "số đi"), when registered.
        var regNumber: Int?
        /// The document's own number and notation ("12/QĐ-UBND").
        var number: String?
        var date: String?
        var typeName: String
        var subject: String
        var state: String
    }

    /// Summaries of the documents `ids` that `actor` may see, in the order asked; ids that do not
    /// exist, belong to another agency or are hidden from the person are left out.
    func summaries(ids: [UUID], for actor: OfficeActor) async throws -> [DocumentSummary] {
        guard !ids.isEmpty else { return [] }
        let docs = try await OfficeDocument.query(on: db).filter(\.$id ~~ ids).filter(\.$agencyCode == actor.agencyCode).all()
            .filter { Self.canSee($0, actor) }
        let byID = Dictionary(uniqueKeysWithValues: docs.compactMap { doc in doc.id.map { ($0, doc) } })
        return ids.compactMap { byID[$0] }.map { doc in
            DocumentSummary(id: doc.id!, direction: doc.direction.rawValue, regNumber: doc.regNumber, number: doc.displayNumber,
                            date: (doc.direction == .incoming ? doc.arrivalDate : doc.promulgationDate), typeName: doc.typeName,
                            subject: doc.subject, state: doc.state)
        }
    }
}
