import Fluent
import Foundation
import SQLKit
import GovCore
import Vapor

/// An agency as the API, the lists and the templates show it; lists decode it straight from
/// the `agencies` rows (see `selection`).
struct AgencyDTO: Content {
    /// The columns of a list query, named as the coding keys (`group` is a reserved word in SQL,
    /// so the column is `group_name`).
    static let selection: [any SQLExpression] = CodingKeys.allCases.map { key -> any SQLExpression in
        if key == .group { return SQLAlias(SQLColumn("group_name"), as: SQLIdentifier("group")) }
        return SQLColumn(key.rawValue)
    }

    var code: String
    var codeStandard: Bool
    var name: String
    var shortName: String?
    var parentCode: String?
    var level: Int
    var group: String?
    var address: String?
    var email: String?
    var phone: String?
    var fax: String?
    var website: String?
    var validFrom: String?
    var validTo: String?
    var state: String
    var successorCode: String?
    var note: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case code, name, level, group, address, email, phone, fax, website, state, note
        case codeStandard = "code_standard", shortName = "short_name", parentCode = "parent_code"
        case validFrom = "valid_from", validTo = "valid_to", successorCode = "successor_code"
    }

    init(_ agency: Agency) {
        code = agency.code
        codeStandard = agency.codeStandard
        name = agency.name
        shortName = agency.shortName
        parentCode = agency.parentCode
        level = agency.level
        group = agency.group
        address = agency.address
        email = agency.email
        phone = agency.phone
        fax = agency.fax
        website = agency.website
        validFrom = agency.validFrom
        validTo = agency.validTo
        state = agency.state
        successorCode = agency.successorCode
        note = agency.note
    }
}

/// A unit as the API and templates show it.
struct DepartmentDTO: Content {
    var code: String
    var name: String
    var kind: String

    init(_ department: Department) {
        code = department.code
        name = department.name
        kind = department.kind
    }
}

/// `GET /api/v1/agencies` and `GET /api/v1/agencies/:code`: the public directory for agency systems.
struct AgencyAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let agencies = routes.grouped("agencies")
        agencies.get(use: list)
        agencies.get(":code", use: show)
    }

    struct ListResponse: Content {
        var items: [AgencyDTO]
        var total: Int
        var page: Int
        var perPage: Int
        enum CodingKeys: String, CodingKey {
            case items, total, page
            case perPage = "per_page"
        }
    }

    @Sendable func list(req: Request) async throws -> ListResponse {
        let stateText = try req.queryText("state")
        let state = try stateText.map { raw -> AgencyState in
            guard let state = AgencyState(rawValue: raw) else {
                throw GovError("query_invalid", .invalid, vi: "Trạng thái không hợp lệ: \(raw).", en: "Invalid state: \(raw).")
            }
            return state
        }
        let query = AgencyDirectory.Query(
            text: try req.queryText("q"), state: state, parentCode: try req.queryText("parent"),
            page: try req.queryInt("page", default: 1, range: 1...1_000_000),
            perPage: try req.queryInt("per_page", default: 100, range: 1...500))
        let results = try await req.agencies.search(query)
        return ListResponse(items: results.agencies, total: results.total,
                            page: results.page, perPage: results.perPage)
    }

    struct DetailResponse: Content {
        var agency: AgencyDTO
        var departments: [DepartmentDTO]
    }

    @Sendable func show(req: Request) async throws -> DetailResponse {
        let agency = try await req.agencies.require(code: try req.parameters.require("code"))
        let departments = try await req.agencies.departments(of: agency)
        return DetailResponse(agency: AgencyDTO(agency), departments: departments.map(DepartmentDTO.init))
    }
}
