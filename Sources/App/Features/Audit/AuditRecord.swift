import Fluent
import Foundation
import GovCore
import Vapor

/// One row of the append-only, hash-chained audit log; `id` is the chain sequence number.
final class AuditRecord: Model, @unchecked Sendable {
    static let schema = "audit_log"

    @ID(custom: "seq", generatedBy: .user) var id: Int64?
    @Field(key: "at_ms") var atMillis: Int64
    @Field(key: "actor") var actor: String
    @OptionalField(key: "agency_code") var agencyCode: String?
    @Field(key: "action") var action: String
    @Field(key: "entity_type") var entityType: String
    @OptionalField(key: "entity_id") var entityID: String?
    @Field(key: "details") var details: String
    @OptionalField(key: "ip") var ip: String?
    @OptionalField(key: "request_id") var requestID: String?
    @Field(key: "prev_hash") var prevHash: String
    @Field(key: "hash") var hash: String

    init() {}

    init(_ entry: AuditEntry) {
        id = entry.seq
        atMillis = entry.atMillis
        actor = entry.actor
        agencyCode = entry.agencyCode
        action = entry.action
        entityType = entry.entityType
        entityID = entry.entityID
        details = entry.details
        ip = entry.ip
        requestID = entry.requestID
        prevHash = entry.prevHash
        hash = entry.hash
    }

    var entry: AuditEntry {
        AuditEntry(seq: id ?? 0, atMillis: atMillis, actor: actor, agencyCode: agencyCode, action: action,
                   entityType: entityType, entityID: entityID, details: details, ip: ip,
                   requestID: requestID, prevHash: prevHash, hash: hash)
    }
}

/// The single row that holds the chain's last sequence number and hash. Appenders lock it first,
/// which serialises appends across connections and nodes, and lets `verify` notice a cut tail.
final class AuditHead: Model, @unchecked Sendable {
    static let schema = "audit_head"

    @ID(custom: "id", generatedBy: .user) var id: Int?
    @Field(key: "seq") var seq: Int64
    @Field(key: "hash") var hash: String

    init() {}

    init(id: Int, seq: Int64, hash: String) {
        self.id = id
        self.seq = seq
        self.hash = hash
    }
}
