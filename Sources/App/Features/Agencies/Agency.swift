import Fluent
import Foundation
import GovCore
import Vapor

/// An agency of the directory (cơ quan, đơn vị), identified by its electronic code (QĐ 20/2020).
final class Agency: Model, @unchecked Sendable {
    static let schema = "agencies"

    // Managed
    @ID(key: .id) var id: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    // Identity and hierarchy
    @Field(key: "code") var code: String
    @Field(key: "code_standard") var codeStandard: Bool
    @Field(key: "name") var name: String
    @OptionalField(key: "short_name") var shortName: String?
    @OptionalField(key: "parent_code") var parentCode: String?
    @Field(key: "level") var level: Int
    @OptionalField(key: "group_name") var group: String?

    // edXML organ fields
    @OptionalField(key: "address") var address: String?
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "phone") var phone: String?
    @OptionalField(key: "fax") var fax: String?
    @OptionalField(key: "website") var website: String?

    // Validity (the 2025 province merger closes agencies and names their successors)
    @OptionalField(key: "valid_from") var validFrom: String?
    @OptionalField(key: "valid_to") var validTo: String?
    @Field(key: "state") var state: String
    @OptionalField(key: "successor_code") var successorCode: String?
    @OptionalField(key: "note") var note: String?

    // Search
    @Field(key: "search_key") var searchKey: String

    init() {}

    init(record: AgencyRecord) {
        apply(record)
    }

    /// Copies a validated record onto this row (insert or update by code).
    func apply(_ record: AgencyRecord) {
        code = record.code.value
        codeStandard = record.code.isStandard
        name = record.name
        shortName = record.shortName
        parentCode = record.parentCode?.value
        level = record.level
        group = record.group
        address = record.address
        email = record.email
        phone = record.phone
        fax = record.fax
        website = record.website
        validFrom = record.validFrom?.iso
        validTo = record.validTo?.iso
        state = record.state.rawValue
        successorCode = record.successorCode?.value
        note = record.note
        searchKey = SearchText.fold([record.code.value, record.name, record.shortName ?? ""].joined(separator: " "))
    }

    /// The row as a domain record (the CSV and API shape).
    func record() throws -> AgencyRecord {
        AgencyRecord(
            code: try AgencyCode(validating: code), name: name, shortName: shortName,
            parentCode: try parentCode.map { try AgencyCode(validating: $0) }, level: level, group: group,
            address: address, email: email, phone: phone, fax: fax, website: website,
            validFrom: try validFrom.map { try CivilDate(parsing: $0) },
            validTo: try validTo.map { try CivilDate(parsing: $0) },
            state: AgencyState(rawValue: state) ?? .active,
            successorCode: try successorCode.map { try AgencyCode(validating: $0) }, note: note)
    }

    var agencyState: AgencyState { AgencyState(rawValue: state) ?? .active }
}

/// A unit inside an agency (phòng, vụ, cục, văn phòng).
final class Department: Model, @unchecked Sendable {
    static let schema = "departments"

    @ID(key: .id) var id: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    @Parent(key: "agency_id") var agency: Agency
    @Field(key: "code") var code: String
    @Field(key: "name") var name: String
    @Field(key: "kind") var kind: String
    @Field(key: "search_key") var searchKey: String

    init() {}

    init(agencyID: UUID, code: String, name: String, kind: String) {
        self.$agency.id = agencyID
        self.code = code
        self.name = name
        self.kind = kind
        self.searchKey = SearchText.fold(code + " " + name)
    }
}
