import Fluent
import Foundation
import Vapor

/// A CA certificate this deployment trusts (root or intermediate), added from the admin page, the
/// command line or the demo PKI. The trust folder (`GOVOFFICE_TRUST_DIR`) adds to these at run time.
final class TrustAnchorRecord: Model, @unchecked Sendable {
    static let schema = "trust_anchors"

    @ID(key: .id) var id: UUID?
    @Field(key: "fingerprint") var fingerprint: String
    @Field(key: "subject") var subject: String
    @Field(key: "issuer") var issuer: String
    @Field(key: "is_root") var isRoot: Bool
    @Field(key: "is_demo") var isDemo: Bool
    @Field(key: "pem") var pem: String
    @Field(key: "not_after") var notAfter: Date
    @Field(key: "source") var source: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(fingerprint: String, subject: String, issuer: String, isRoot: Bool, isDemo: Bool, pem: String,
         notAfter: Date, source: String) {
        self.fingerprint = fingerprint
        self.subject = subject
        self.issuer = issuer
        self.isRoot = isRoot
        self.isDemo = isDemo
        self.pem = pem
        self.notAfter = notAfter
        self.source = source
    }
}

/// The latest certificate revocation list imported for one issuer (its signature checked on import).
final class RevocationListRecord: Model, @unchecked Sendable {
    static let schema = "revocation_lists"

    @ID(key: .id) var id: UUID?
    @Field(key: "issuer") var issuer: String
    @Field(key: "this_update") var thisUpdate: Date
    @OptionalField(key: "next_update") var nextUpdate: Date?
    @Field(key: "entries") var entries: Int
    @Field(key: "der_base64") var derBase64: String
    @Timestamp(key: "imported_at", on: .create) var importedAt: Date?

    init() {}

    init(issuer: String, thisUpdate: Date, nextUpdate: Date?, entries: Int, der: [UInt8]) {
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entries = entries
        self.derBase64 = Data(der).base64EncodedString()
    }
}

/// A certificate this deployment treats as revoked whatever its CA says (a lost card, a key
/// reported stolen before the CA's next list).
final class RevokedSerialRecord: Model, @unchecked Sendable {
    static let schema = "revoked_serials"

    @ID(key: .id) var id: UUID?
    @Field(key: "issuer") var issuer: String
    @Field(key: "serial") var serial: String
    @Field(key: "reason") var reason: String
    @Field(key: "revoked_at") var revokedAt: Date
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(issuer: String, serial: String, reason: String, revokedAt: Date) {
        self.issuer = issuer
        self.serial = serial
        self.reason = reason
        self.revokedAt = revokedAt
    }
}

/// A signing certificate bound to an agency of the directory: the agency's seal, or a person of it.
/// A signature proves which agency signed only through such a binding.
final class AgencyCertificateRecord: Model, @unchecked Sendable {
    static let schema = "agency_certificates"
    /// The kind of the organisation's seal (con dấu cơ quan), the only binding that signs edXML messages.
    static let sealKind = "agency"
    /// The kind of a person's certificate of the agency (ballots, a signer's PDF signature).
    static let personKind = "person"

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_code") var agencyCode: String
    @Field(key: "kind") var kind: String
    @OptionalField(key: "username") var username: String?
    @Field(key: "fingerprint") var fingerprint: String
    @Field(key: "subject") var subject: String
    @Field(key: "issuer") var issuer: String
    @Field(key: "serial") var serial: String
    @Field(key: "not_after") var notAfter: Date
    @Field(key: "pem") var pem: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(agencyCode: String, kind: String, username: String?, fingerprint: String, subject: String, issuer: String,
         serial: String, notAfter: Date, pem: String) {
        self.agencyCode = agencyCode
        self.kind = kind
        self.username = username
        self.fingerprint = fingerprint
        self.subject = subject
        self.issuer = issuer
        self.serial = serial
        self.notAfter = notAfter
        self.pem = pem
    }
}
