import Fluent
import Foundation
import GovCore
import FluentSQL
import SQLKit
import Vapor

/// The agency directory's interface for the rest of the system: look-ups by code, search,
/// and the all-or-nothing CSV import. Other subsystems use this, never the tables.
struct AgencyDirectory: Sendable {
    let db: any Database

    static func notFound(_ code: String) -> GovError {
        GovError("agency_not_found", .notFound,
                 vi: "Không tìm thấy cơ quan có mã \(code).", en: "No agency with code \(code).")
    }

    func find(code: String) async throws -> Agency? {
        try await Agency.query(on: db).filter(\.$code == code).first()
    }

    func require(code: String) async throws -> Agency {
        guard let agency = try await find(code: code) else { throw Self.notFound(code) }
        return agency
    }

    func find(id: UUID) async throws -> Agency? {
        try await Agency.find(id, on: db)
    }

    /// The codes of the given agencies, for lists that show agency codes.
    func codes(of ids: Set<UUID>) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return try await Agency.query(on: db).filter(\.$id ~~ ids).all()
            .reduce(into: [UUID: String]()) { map, agency in if let id = agency.id { map[id] = agency.code } }
    }

    /// The agencies with the given ids (any missing are left out).
    func agencies(ids: Set<UUID>) async throws -> [Agency] {
        guard !ids.isEmpty else { return [] }
        return try await Agency.query(on: db).filter(\.$id ~~ ids).all()
    }

    /// Name and state of each given code that is in the directory, read with SQLKit: the hub asks
    /// this for every message's recipients, where Fluent's model decoding would cost more than the query.
    func summaries(codes: Set<String>) async throws -> [String: (name: String, state: AgencyState)] {
        guard !codes.isEmpty else { return [:] }
        var out: [String: (name: String, state: AgencyState)] = [:]
        for row in try await db.sql.select().column("code").column("name").column("state").from(Agency.schema)
            .where("code", .in, Array(codes)).all() {
            let state = AgencyState(rawValue: try row.decode(column: "state", as: String.self)) ?? .active
            out[try row.decode(column: "code", as: String.self)] = (try row.decode(column: "name", as: String.self), state)
        }
        return out
    }

    /// A unit by id.
    func department(id: UUID) async throws -> Department? {
        try await Department.find(id, on: db)
    }

    /// A unit of `agency` by its code.
    func department(in agency: Agency, code: String) async throws -> Department? {
        try await Department.query(on: db).filter(\.$agency.$id == agency.requireID()).filter(\.$code == code).first()
    }

    /// Filters of the browse page and the API.
    struct Query: Sendable {
        var text: String?
        var state: AgencyState?
        var parentCode: String?
        var page: Int = 1
        var perPage: Int = 50
    }

    /// One page of results.
    struct Results: Sendable {
        var agencies: [AgencyDTO]
        var total: Int
        var page: Int
        var perPage: Int
    }

    /// Lists read rows straight into `AgencyDTO` with SQLKit: Fluent's model decoding
    /// reflects over every property of every row and was the largest cost of the list page.
    func search(_ query: Query) async throws -> Results {
        let perPage = min(max(query.perPage, 1), 500)
        let page = max(query.page, 1)
        func filtered<B: SQLPredicateBuilder>(_ builder: B) -> B {
            var builder = builder
            if let text = query.text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                builder = builder.where(SearchFilter.contains("search_key", text))
            }
            if let state = query.state { builder = builder.where("state", .equal, state.rawValue) }
            if let parent = query.parentCode { builder = builder.where("parent_code", .equal, parent) }
            return builder
        }
        let sql = db.sql
        let countRow = try await filtered(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(Agency.schema)).first()
        let total = try countRow?.decode(column: "n", as: Int.self) ?? 0
        let agencies = try await filtered(sql.select().columns(AgencyDTO.selection).from(Agency.schema))
            .orderBy("level").orderBy("code")
            .limit(perPage).offset((page - 1) * perPage)
            .all(decoding: AgencyDTO.self)
        return Results(agencies: agencies, total: total, page: page, perPage: perPage)
    }

    /// The agency an admin page works on: the one asked for when `allowed` grants it, otherwise
    /// the principal's own. nil means every agency, which only a system administrator gets.
    func scope(_ principal: Principal, asked code: String?, allowed: (UUID, Principal) -> Bool,
               refusal: GovError) async throws -> Agency? {
        if let code {
            let agency = try await require(code: code)
            guard allowed(try agency.requireID(), principal) else { throw refusal }
            return agency
        }
        if principal.isSystemAdmin { return nil }
        guard let own = principal.agencyID, allowed(own, principal), let agency = try await find(id: own) else {
            throw refusal
        }
        return agency
    }

    func departments(of agency: Agency) async throws -> [Department] {
        try await Department.query(on: db).filter(\.$agency.$id == agency.requireID()).sort(\.$code).all()
    }

    /// What an import did, or why it did nothing.
    struct ImportReport: Sendable {
        var created: Int = 0
        var updated: Int = 0
        var errors: [CSVRowIssue] = []
        var warnings: [CSVRowIssue] = []
        var succeeded: Bool { errors.isEmpty }
    }

    /// Validates the whole file first; imports every row in one transaction only when no row is
    /// bad, so a file is either fully applied or not at all.
    /// With `dryRun` the file is only checked against the directory; nothing is written.
    func importCSV(_ text: String, by actor: AuditActor, dryRun: Bool = false,
                   progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> ImportReport {
        // One read of the directory, inside the transaction, serves both the checks (which
        // parents exist) and the writes, so they judge and change the same rows.
        let (parsed, created, updated) = try await db.atomically { tx -> (AgencyCSVResult, Int, Int) in
            let byCode = Dictionary(
                try await Agency.query(on: tx).all().map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
            let parsed = AgencyCSV.parse(text, existingCodes: Set(byCode.keys))
            guard parsed.isValid, !dryRun else { return (parsed, 0, 0) }
            let records = parsed.records
            var created = 0, updated = 0
            for (index, record) in records.enumerated() {
                if let agency = byCode[record.code.value] {
                    agency.apply(record)
                    try await agency.save(on: tx)
                    updated += 1
                } else {
                    try await Agency(record: record).create(on: tx)
                    created += 1
                }
                progress?(index + 1, records.count)
            }
            try await AuditLog.append(
                "agency.import", entity: "agency",
                details: ["created": String(created), "updated": String(updated), "rows": String(records.count)],
                by: actor, on: tx)
            return (parsed, created, updated)
        }
        return ImportReport(created: created, updated: updated, errors: parsed.errors, warnings: parsed.warnings)
    }

    func exportCSV() async throws -> String {
        let agencies = try await Agency.query(on: db).sort(\.$level).sort(\.$code).all()
        return AgencyCSV.write(try agencies.map { try $0.record() })
    }

    /// Locks or unlocks an agency (a locked agency can sign in nobody and receive nothing).
    func setState(_ agency: Agency, _ state: AgencyState, by actor: AuditActor) async throws {
        try await db.atomically { tx in
            agency.state = state.rawValue
            try await agency.save(on: tx)
            try await AuditLog.append("agency.\(state == .locked ? "lock" : "unlock")", entity: "agency",
                                      id: agency.code, agencyCode: agency.code, by: actor, on: tx)
        }
    }

    func addDepartment(to agency: Agency, code: String, name: String, kind: String,
                       by actor: AuditActor) async throws -> Department {
        let code = code.trimmingCharacters(in: .whitespaces)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !code.isEmpty, code.count <= 32, !name.isEmpty, name.count <= 300 else {
            throw GovError("department_invalid", .invalid,
                           vi: "Mã đơn vị (tối đa 32 ký tự) và tên đơn vị là bắt buộc.",
                           en: "A unit code (up to 32 characters) and a unit name are required.")
        }
        let agencyID = try agency.requireID()
        if try await Department.query(on: db).filter(\.$agency.$id == agencyID).filter(\.$code == code).first() != nil {
            throw GovError("department_exists", .conflict,
                           vi: "Đơn vị có mã \(code) đã tồn tại.", en: "A unit with code \(code) already exists.")
        }
        let department = Department(agencyID: agencyID, code: code, name: name, kind: kind)
        try await db.atomically { tx in
            try await department.create(on: tx)
            try await AuditLog.append("department.create", entity: "department", id: code,
                                      details: ["name": name], agencyCode: agency.code, by: actor, on: tx)
        }
        return department
    }
}

extension Request {
    var agencies: AgencyDirectory { AgencyDirectory(db: db) }
}
