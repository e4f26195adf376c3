import Fluent
import SQLKit

/// Work files (hồ sơ công việc, Decree 30/2020 Art. 28–29): the files of an agency's year, the office
/// documents filed in each, and the list of documents fixed when a file is closed. Kept in its own
/// file so that it merges cleanly with the migrations other branches add.
struct M0012_CreateWorkFiles: AsyncMigration {
    var name: String { "0012_create_work_files" }

    func prepare(on database: any Database) async throws {
        try await database.schema(WorkFile.schema)
            .id()
            .field("agency_code", .string, .required)
            .field("year", .int, .required)
            .field("code", .string, .required)
            .field("title", .string, .required)
            .field("owner_username", .string, .required)
            // NULL is permanent (Vĩnh viễn); otherwise the number of years.
            .field("retention_years", .int)
            .field("state", .string, .required)
            .field("closed_at", .datetime)
            .field("closed_by", .string)
            .field("note", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "agency_code", "year", "code")
            .create()
        try await database.createIndex("work_files_owner", on: WorkFile.schema, "agency_code", "owner_username")

        // document_id has no foreign key: the documents are the office's table, read only through
        // OfficeService.summaries.
        try await database.schema(WorkFileDocument.schema)
            .id()
            .field("file_id", .uuid, .required, .references(WorkFile.schema, "id", onDelete: .cascade))
            .field("document_id", .uuid, .required)
            .field("position", .int, .required)
            .field("added_at", .datetime, .required)
            .field("added_by", .string, .required)
            .unique(on: "file_id", "document_id")
            .create()
        // "Which files is this document in?" for the document's page.
        try await database.createIndex("work_file_documents_document", on: WorkFileDocument.schema, "document_id")

        // The list of documents (mục lục văn bản) as it was when the file closed: copied, so that a
        // later change of a document does not change a closed file.
        try await database.schema(WorkFileIndexEntry.schema)
            .id()
            .field("file_id", .uuid, .required, .references(WorkFile.schema, "id", onDelete: .cascade))
            .field("position", .int, .required)
            .field("document_id", .uuid, .required)
            .field("direction", .string, .required)
            .field("reg_number", .string)
            .field("number", .string)
            .field("date", .string)
            .field("type_name", .string, .required)
            .field("subject", .string, .required)
            .unique(on: "file_id", "position")
            .create()
    }

    func revert(on database: any Database) async throws {
        for schema in [WorkFileIndexEntry.schema, WorkFileDocument.schema, WorkFile.schema] {
            try await database.schema(schema).delete()
        }
    }
}
