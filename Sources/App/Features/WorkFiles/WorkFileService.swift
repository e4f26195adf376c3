import Fluent
import Foundation
import GovCore
import OfficeRules
import SQLKit
import Vapor

/// Work files (hồ sơ công việc) for the rest of the system: an agency's files of a year, the office
/// documents of both directions filed in them, and closing (kết thúc hồ sơ), which fixes the list of
/// documents. Office documents are read only through `OfficeService.summaries(ids:for:)`, so a person
/// files only what the office lets them see. Every change is audited in its own transaction.
///
/// Who: the agency's office staff (clerk, leader, specialist). Clerks and leaders see and keep every
/// file of the agency; a specialist the files they own. A file someone may not see does not exist
/// for them (`work_file_not_found`), whatever agency it belongs to.
struct WorkFileService: Sendable {
    let db: any Database

    // MARK: Errors

    static let notFound = GovError("work_file_not_found", .notFound,
                                   vi: "Không tìm thấy hồ sơ.", en: "No such work file.")
    static let notStaff = GovError("work_file_not_staff", .forbidden,
                                   vi: "Hồ sơ công việc dành cho văn thư, lãnh đạo và chuyên viên của cơ quan.",
                                   en: "Work files are for the agency's clerks, leaders and specialists.")
    static let closed = GovError("work_file_closed", .conflict,
                                 vi: "Hồ sơ đã kết thúc; không thêm hoặc bớt văn bản được nữa.",
                                 en: "The file is closed; documents can no longer be added or removed.")
    static let repeated = GovError("work_file_document_repeated", .conflict,
                                   vi: "Văn bản này đã có trong hồ sơ.", en: "The document is already in this file.")
    static let notFiled = GovError("work_file_document_not_filed", .notFound,
                                   vi: "Văn bản này không có trong hồ sơ.", en: "The document is not in this file.")
    static let empty = GovError("work_file_empty", .invalid,
                                vi: "Hồ sơ chưa có văn bản nào nên chưa kết thúc được.",
                                en: "The file has no documents yet, so it cannot be closed.")
    static let hidden = GovError("work_file_documents_hidden", .conflict,
                                 vi: "Có văn bản trong hồ sơ mà bạn không được xem; đề nghị văn thư hoặc lãnh đạo kết thúc hồ sơ.",
                                 en: "The file holds documents you may not see; ask a clerk or a leader to close it.")
    static let titleInvalid = GovError("work_file_title_invalid", .invalid,
                                       vi: "Tiêu đề hồ sơ là bắt buộc (tối đa 500 ký tự).",
                                       en: "A title is required (at most 500 characters).")
    static let noteTooLong = GovError("work_file_note_too_long", .invalid,
                                      vi: "Ghi chú tối đa 2000 ký tự.", en: "The note takes at most 2000 characters.")
    static let yearInvalid = GovError("work_file_year_invalid", .invalid,
                                      vi: "Năm hồ sơ phải từ 2000 đến 2100.", en: "The file's year must be from 2000 to 2100.")

    static func codeTaken(_ code: String, year: Int) -> GovError {
        GovError("work_file_code_taken", .conflict,
                 vi: "Năm \(year) cơ quan đã có hồ sơ ký hiệu \(code).",
                 en: "The agency already has a file \(code) in \(year).")
    }

    // MARK: Access

    static func requireStaff(_ actor: OfficeActor) throws {
        guard actor.isStaff else { throw notStaff }
    }

    /// Whether `actor` sees (and so may keep) `file`: clerks and leaders every file of their agency,
    /// a specialist their own.
    static func canSee(_ file: WorkFile, _ actor: OfficeActor) -> Bool {
        file.agencyCode == actor.agencyCode && (actor.seesAll || file.ownerUsername == actor.username)
    }

    /// The file `id` if `actor` may see it; otherwise `work_file_not_found`.
    func file(_ id: UUID, for actor: OfficeActor) async throws -> WorkFile {
        try Self.requireStaff(actor)
        guard let file = try await WorkFile.find(id, on: db), Self.canSee(file, actor) else { throw Self.notFound }
        return file
    }

    /// The file, its row locked for the rest of the transaction (a row lock on PostgreSQL, the write
    /// lock on SQLite): adding, removing and closing on several nodes happen one after the other, so
    /// nothing is added to a file while it closes.
    private static func locked(_ id: UUID, for actor: OfficeActor, on tx: any Database) async throws -> WorkFile {
        try await tx.lockRow(in: WorkFile.schema, id: id, column: "state")
        guard let file = try await WorkFile.find(id, on: tx), canSee(file, actor) else { throw notFound }
        return file
    }

    // MARK: Files

    /// What a person asks for when opening a file.
    struct NewFile: Sendable {
        var code: String
        var title: String
        var year: Int
        /// `permanent` or a number of years.
        var retention: String
        var note: String = ""
    }

    /// Opens a file owned by `actor`. The code is unique in the agency's year.
    func create(_ new: NewFile, by actor: OfficeActor) async throws -> WorkFile {
        try Self.requireStaff(actor)
        let code = try WorkFileCode(parsing: new.code).description
        let title = new.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= 500 else { throw Self.titleInvalid }
        let retention = try WorkFileRetention(parsing: new.retention)
        guard (2000...2100).contains(new.year) else { throw Self.yearInvalid }
        let note = new.note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.count <= 2000 else { throw Self.noteTooLong }
        let file = WorkFile()
        file.id = UUID()
        file.agencyCode = actor.agencyCode
        file.year = new.year
        file.code = code
        file.title = title
        file.ownerUsername = actor.username
        file.retentionYears = retention.storedYears
        file.state = WorkFileState.open.rawValue
        file.note = note.nilIfEmpty
        do {
            try await db.atomically { tx in
                // The unique index refuses a code taken meanwhile on another node; this gives the
                // common case its message.
                if try await WorkFile.query(on: tx).filter(\.$agencyCode == actor.agencyCode).filter(\.$year == new.year)
                    .filter(\.$code == code).first() != nil {
                    throw Self.codeTaken(code, year: new.year)
                }
                try await file.create(on: tx)
                try await AuditLog.append("workfile.create", entity: "work_file", id: file.id?.uuidString.lowercased(),
                                          details: ["code": code, "year": String(new.year), "title": String(title.prefix(200)),
                                                    "retention": retention.description],
                                          agencyCode: actor.agencyCode, by: actor.audit, on: tx)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw Self.codeTaken(code, year: new.year)
        }
        return file
    }

    struct ListQuery: Sendable {
        var year: Int?
        var state: WorkFileState?
    }

    /// A file of a list, with how many documents it holds.
    struct Listed: Sendable {
        var file: WorkFile
        var documents: Int
    }

    /// The files `actor` sees, newest year first, then by code number.
    func list(_ query: ListQuery, for actor: OfficeActor) async throws -> [Listed] {
        try Self.requireStaff(actor)
        var builder = WorkFile.query(on: db).filter(\.$agencyCode == actor.agencyCode)
        if let year = query.year { builder = builder.filter(\.$year == year) }
        if let state = query.state { builder = builder.filter(\.$state == state.rawValue) }
        if !actor.seesAll { builder = builder.filter(\.$ownerUsername == actor.username) }
        let files = try await builder.limit(2000).all()
        let counts = try await documentCounts(files.compactMap(\.id))
        func order(_ file: WorkFile) -> (Int, Int, String) {
            let code = try? WorkFileCode(parsing: file.code)
            return (-file.year, code?.number ?? Int.max, code?.heading ?? file.code)
        }
        return files.sorted { order($0) < order($1) }.map { Listed(file: $0, documents: $0.id.flatMap { counts[$0] } ?? 0) }
    }

    private func documentCounts(_ fileIDs: [UUID]) async throws -> [UUID: Int] {
        guard !fileIDs.isEmpty else { return [:] }
        var counts: [UUID: Int] = [:]
        for row in try await db.sql.select().column("file_id").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(WorkFileDocument.schema).where("file_id", .in, fileIDs).groupBy("file_id").all() {
            counts[try row.decode(column: "file_id", as: UUID.self)] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    // MARK: Documents

    /// A filed document, with its summary when the person may see it (nil: filed, but hidden from them).
    struct Entry: Sendable {
        var documentID: UUID
        var position: Int
        var addedAt: Date
        var addedBy: String
        var summary: OfficeService.DocumentSummary?
    }

    /// The documents filed in `file`, in the order they were added.
    func documents(of file: WorkFile, for actor: OfficeActor) async throws -> [Entry] {
        let links = try await WorkFileDocument.query(on: db).filter(\.$fileID == file.requireID()).sort(\.$position).all()
        let summaries = try await OfficeService(db: db).summaries(ids: links.map(\.documentID), for: actor)
        let byID = Dictionary(summaries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return links.map { Entry(documentID: $0.documentID, position: $0.position, addedAt: $0.addedAt, addedBy: $0.addedBy,
                                 summary: byID[$0.documentID]) }
    }

    /// Files the office document `documentID` in the open file `fileID`. The document must be one
    /// `actor` sees in the office (else `office_document_not_found`), and not filed there already.
    func add(document documentID: UUID, to fileID: UUID, by actor: OfficeActor) async throws {
        _ = try await file(fileID, for: actor)
        guard try await OfficeService(db: db).summaries(ids: [documentID], for: actor).first != nil else {
            throw OfficeService.notFound
        }
        do {
            try await db.atomically { tx in
                let file = try await Self.locked(fileID, for: actor, on: tx)
                guard file.isOpen else { throw Self.closed }
                if try await WorkFileDocument.query(on: tx).filter(\.$fileID == fileID).filter(\.$documentID == documentID)
                    .first() != nil {
                    throw Self.repeated
                }
                let last = try await WorkFileDocument.query(on: tx).filter(\.$fileID == fileID).max(\.$position) ?? 0
                let link = WorkFileDocument()
                link.fileID = fileID
                link.documentID = documentID
                link.position = last + 1
                link.addedAt = Date()
                link.addedBy = actor.username
                try await link.create(on: tx)
                try await AuditLog.append("workfile.document_add", entity: "work_file", id: fileID.uuidString.lowercased(),
                                          details: ["code": file.code, "document": documentID.uuidString.lowercased()],
                                          agencyCode: file.agencyCode, by: actor.audit, on: tx)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw Self.repeated
        }
    }

    /// Takes the document out of the open file.
    func remove(document documentID: UUID, from fileID: UUID, by actor: OfficeActor) async throws {
        try Self.requireStaff(actor)
        try await db.atomically { tx in
            let file = try await Self.locked(fileID, for: actor, on: tx)
            guard file.isOpen else { throw Self.closed }
            guard let link = try await WorkFileDocument.query(on: tx).filter(\.$fileID == fileID)
                .filter(\.$documentID == documentID).first() else { throw Self.notFiled }
            try await link.delete(on: tx)
            try await AuditLog.append("workfile.document_remove", entity: "work_file", id: fileID.uuidString.lowercased(),
                                      details: ["code": file.code, "document": documentID.uuidString.lowercased()],
                                      agencyCode: file.agencyCode, by: actor.audit, on: tx)
        }
    }

    /// Closes the file (kết thúc hồ sơ): the documents' summaries of this moment become its list of
    /// documents, numbered from 1 in the order they were filed, and nothing is added or removed
    /// afterwards. The person closing must see every document of the file, so the list is complete.
    func close(_ fileID: UUID, by actor: OfficeActor) async throws -> WorkFile {
        try Self.requireStaff(actor)
        return try await db.atomically { tx in
            let file = try await Self.locked(fileID, for: actor, on: tx)
            guard file.isOpen else { throw Self.closed }
            let links = try await WorkFileDocument.query(on: tx).filter(\.$fileID == fileID).sort(\.$position).all()
            guard !links.isEmpty else { throw Self.empty }
            let summaries = try await OfficeService(db: tx).summaries(ids: links.map(\.documentID), for: actor)
            guard summaries.count == links.count else { throw Self.hidden }
            for (index, summary) in summaries.enumerated() {
                let line = WorkFileIndexEntry()
                line.fileID = fileID
                line.position = index + 1
                line.documentID = summary.id
                line.direction = summary.direction
                line.regNumber = summary.regNumber.map { $0 < 10 ? "0\($0)" : String($0) }
                line.number = summary.number
                line.date = summary.date
                line.typeName = summary.typeName
                line.subject = summary.subject
                try await line.create(on: tx)
            }
            file.state = WorkFileState.closed.rawValue
            file.closedAt = Date()
            file.closedBy = actor.username
            try await file.update(on: tx)
            try await AuditLog.append("workfile.close", entity: "work_file", id: fileID.uuidString.lowercased(),
                                      details: ["code": file.code, "documents": String(summaries.count)],
                                      agencyCode: file.agencyCode, by: actor.audit, on: tx)
            return file
        }
    }

    /// A closed file's list of documents as it was fixed; empty for an open file.
    func index(of file: WorkFile) async throws -> [WorkFileIndexEntry] {
        try await WorkFileIndexEntry.query(on: db).filter(\.$fileID == file.requireID()).sort(\.$position).all()
    }

    /// The files `actor` sees that hold the office document `documentID` (for the document's page).
    func files(containing documentID: UUID, for actor: OfficeActor) async throws -> [WorkFile] {
        try Self.requireStaff(actor)
        let fileIDs = try await WorkFileDocument.query(on: db).filter(\.$documentID == documentID).all().map(\.fileID)
        guard !fileIDs.isEmpty else { return [] }
        return try await WorkFile.query(on: db).filter(\.$id ~~ fileIDs).filter(\.$agencyCode == actor.agencyCode)
            .sort(\.$year, .descending).sort(\.$code).all().filter { Self.canSee($0, actor) }
    }
}

extension Request {
    var workFiles: WorkFileService { WorkFileService(db: db) }
}

extension Application {
    var workFiles: WorkFileService { WorkFileService(db: db) }
}
