import Fluent
import Foundation
import OfficeRules
import Vapor

/// Whether documents may still be filed (open) or the list is fixed (closed, kết thúc hồ sơ).
enum WorkFileState: String, CaseIterable, Codable, Sendable {
    case open, closed
}

/// A work file (hồ sơ công việc) of an agency's year.
final class WorkFile: Model, @unchecked Sendable {
    static let schema = "work_files"

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_code") var agencyCode: String
    @Field(key: "year") var year: Int
    @Field(key: "code") var code: String
    @Field(key: "title") var title: String
    @Field(key: "owner_username") var ownerUsername: String
    @OptionalField(key: "retention_years") var retentionYears: Int?
    @Field(key: "state") var state: String
    @OptionalField(key: "closed_at") var closedAt: Date?
    @OptionalField(key: "closed_by") var closedBy: String?
    @OptionalField(key: "note") var note: String?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var fileState: WorkFileState { WorkFileState(rawValue: state) ?? .open }
    var isOpen: Bool { fileState == .open }
    var retention: WorkFileRetention { WorkFileRetention(storedYears: retentionYears) }
}

/// An office document filed in a work file, in the order it was added.
final class WorkFileDocument: Model, @unchecked Sendable {
    static let schema = "work_file_documents"

    @ID(key: .id) var id: UUID?
    @Field(key: "file_id") var fileID: UUID
    @Field(key: "document_id") var documentID: UUID
    @Field(key: "position") var position: Int
    @Field(key: "added_at") var addedAt: Date
    @Field(key: "added_by") var addedBy: String

    init() {}
}

/// One line of a closed file's list of documents (mục lục văn bản), copied from the document's
/// summary when the file closed.
final class WorkFileIndexEntry: Model, @unchecked Sendable {
    static let schema = "work_file_index"

    @ID(key: .id) var id: UUID?
    @Field(key: "file_id") var fileID: UUID
    @Field(key: "position") var position: Int
    @Field(key: "document_id") var documentID: UUID
    @Field(key: "direction") var direction: String
    @OptionalField(key: "reg_number") var regNumber: String?
    @OptionalField(key: "number") var number: String?
    @OptionalField(key: "date") var date: String?
    @Field(key: "type_name") var typeName: String
    @Field(key: "subject") var subject: String

    init() {}
}
