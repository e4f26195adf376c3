import Fluent
import Foundation
import Vapor

/// A document system of an agency that calls the machine-to-machine APIs (VPCP SDK convention:
/// a system id and a secret). Only the SHA-256 of the secret is stored.
final class AgencySystem: Model, @unchecked Sendable {
    static let schema = "agency_systems"

    @ID(key: .id) var id: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    @Parent(key: "agency_id") var agency: Agency
    @Field(key: "system_id") var systemID: String
    @Field(key: "name") var name: String
    @Field(key: "secret_hash") var secretHash: String
    @Field(key: "state") var state: String
    @OptionalField(key: "rotated_at") var rotatedAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?

    init() {}

    init(agencyID: UUID, systemID: String, name: String, secretHash: String) {
        self.$agency.id = agencyID
        self.systemID = systemID
        self.name = name
        self.secretHash = secretHash
        self.state = "active"
    }

    var isActive: Bool { state == "active" }
}
