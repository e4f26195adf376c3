import Fluent
import Foundation
import GovCore
import Vapor

/// The demo data set: the Government Office, the ministries and some provinces of the standards
/// notes, their units, and one account per role. Written only into an empty directory.
enum DemoSeeder {
    /// The password of every demo account (printed at start-up; never use demo data in production).
    static let password = "GovOffice@2026"

    struct Account {
        var username: String
        var fullName: String
        var agency: String?
        var department: String?
        var roles: Set<Role>
        var position: String?
    }

    static let accounts: [Account] = [
        Account(username: "admin", fullName: "Quản trị hệ thống", agency: "000.00.00.G22", department: nil,
                roles: [.systemAdmin], position: "Quản trị viên"),
        Account(username: "g22.quantri", fullName: "Trần Văn Quản Trị", agency: "000.00.00.G22", department: "HC",
                roles: [.agencyAdmin], position: "Quản trị cơ quan"),
        Account(username: "g22.vanthu", fullName: "Nguyễn Thị Văn Thư", agency: "000.00.00.G22", department: "HC",
                roles: [.clerk], position: "Văn thư"),
        Account(username: "g22.lanhdao", fullName: "Lê Văn Lãnh Đạo", agency: "000.00.00.G22", department: "TH",
                roles: [.leader], position: "Phó Chủ nhiệm"),
        Account(username: "g22.chuyenvien", fullName: "Phạm Thị Chuyên Viên", agency: "000.00.00.G22", department: "TH",
                roles: [.specialist], position: "Chuyên viên"),
        Account(username: "g22.thanhvien", fullName: "Hoàng Văn Thành Viên", agency: "000.00.00.G22", department: nil,
                roles: [.cabinetMember], position: "Thành viên Chính phủ"),
        Account(username: "g22.baocao", fullName: "Vũ Thị Báo Cáo", agency: "000.00.00.G22", department: "TH",
                roles: [.reportingOfficer], position: "Cán bộ báo cáo"),
        Account(username: "h41.quantri", fullName: "Đinh Văn Quản Trị", agency: "000.00.00.H41", department: "VP",
                roles: [.agencyAdmin], position: "Quản trị cơ quan"),
        Account(username: "h41.vanthu", fullName: "Đặng Thị Nghệ An", agency: "000.00.00.H41", department: "VP",
                roles: [.clerk], position: "Văn thư"),
        Account(username: "congdan", fullName: "Nguyễn Văn Công Dân", agency: nil, department: nil,
                roles: [.citizen], position: nil),
        Account(username: "doanhnghiep", fullName: "Công ty TNHH Thử Nghiệm", agency: nil, department: nil,
                roles: [.business], position: nil),
    ]

    static func agencies() throws -> [AgencyRecord] {
        func code(_ raw: String) throws -> AgencyCode { try AgencyCode(validating: raw) }
        let g22 = try code("000.00.00.G22")
        let ministries: [(String, String, String)] = [
            ("G01", "Bộ Công an", "BCA"), ("G02", "Bộ Công Thương", "BCT"), ("G03", "Bộ Giáo dục và Đào tạo", "BGDĐT"),
            ("G04", "Bộ Giao thông vận tải", "BGTVT"), ("G05", "Bộ Kế hoạch và Đầu tư", "BKHĐT"),
            ("G06", "Bộ Khoa học và Công nghệ", "BKHCN"), ("G07", "Bộ Lao động - Thương binh và Xã hội", "BLĐTBXH"),
            ("G08", "Bộ Ngoại giao", "BNG"), ("G09", "Bộ Nội vụ", "BNV"),
            ("G10", "Bộ Nông nghiệp và Phát triển nông thôn", "BNNPTNT"), ("G11", "Bộ Quốc phòng", "BQP"),
            ("G14", "Bộ Thông tin và Truyền thông", "BTTTT"), ("G15", "Bộ Tư pháp", "BTP"),
            ("G16", "Bộ Văn hóa, Thể thao và Du lịch", "BVHTTDL"), ("G17", "Bộ Xây dựng", "BXD"),
            ("G18", "Bộ Y tế", "BYT"), ("G19", "Ngân hàng Nhà nước Việt Nam", "NHNN"),
            ("G20", "Thanh tra Chính phủ", "TTCP"), ("G21", "Ủy ban Dân tộc", "UBDT"),
        ]
        var records = [
            AgencyRecord(code: g22, name: "Văn phòng Chính phủ", shortName: "VPCP", level: 1, group: "G",
                         address: "1 Hoàng Hoa Thám, Ba Đình, Hà Nội", email: "vpcp@chinhphu.vn",
                         website: "https://vpcp.chinhphu.vn", validFrom: CivilDate(year: 2020, month: 7, day: 22)),
        ]
        for (suffix, name, short) in ministries {
            records.append(AgencyRecord(code: try code("000.00.00.\(suffix)"), name: name, shortName: short, level: 1,
                                        group: "G", note: "Dữ liệu mẫu theo danh mục tham khảo; cần đối chiếu với danh mục chính thức."))
        }
        let provinces: [(String, String, String)] = [
            ("H14", "Ủy ban nhân dân tỉnh Cao Bằng", "UBND tỉnh Cao Bằng"),
            ("H20", "Ủy ban nhân dân tỉnh Đồng Tháp", "UBND tỉnh Đồng Tháp"),
            ("H29", "Ủy ban nhân dân Thành phố Hồ Chí Minh", "UBND TP.HCM"),
            ("H37", "Ủy ban nhân dân tỉnh Lạng Sơn", "UBND tỉnh Lạng Sơn"),
            ("H41", "Ủy ban nhân dân tỉnh Nghệ An", "UBND tỉnh Nghệ An"),
            ("H56", "Ủy ban nhân dân tỉnh Thanh Hóa", "UBND tỉnh Thanh Hóa"),
        ]
        for (suffix, name, short) in provinces {
            records.append(AgencyRecord(code: try code("000.00.00.\(suffix)"), name: name, shortName: short, level: 1,
                                        group: "H"))
        }
        // Provinces closed by the 1 July 2025 merger (NQ 202/2025/QH15): kept for old documents,
        // no longer valid, locked.
        let closed = CivilDate(year: 2025, month: 6, day: 30)
        records.append(AgencyRecord(code: try code("000.00.00.H30"), name: "Ủy ban nhân dân tỉnh Hậu Giang",
                                    shortName: "UBND tỉnh Hậu Giang", level: 1, group: "H", validTo: closed, state: .locked,
                                    note: "Sáp nhập vào thành phố Cần Thơ từ 01/7/2025 (NQ 202/2025/QH15)."))
        records.append(AgencyRecord(code: try code("000.00.00.H47"), name: "Ủy ban nhân dân tỉnh Quảng Nam",
                                    shortName: "UBND tỉnh Quảng Nam", level: 1, group: "H", validTo: closed, state: .locked,
                                    note: "Sáp nhập vào thành phố Đà Nẵng từ 01/7/2025 (NQ 202/2025/QH15)."))
        return records
    }

    static let departments: [(agency: String, code: String, name: String, kind: String)] = [
        ("000.00.00.G22", "TH", "Vụ Tổng hợp", "vu"),
        ("000.00.00.G22", "HC", "Vụ Hành chính", "vu"),
        ("000.00.00.G22", "PL", "Vụ Pháp luật", "vu"),
        ("000.00.00.G22", "KSTT", "Cục Kiểm soát thủ tục hành chính", "cuc"),
        ("000.00.00.G22", "TTĐT", "Cổng Thông tin điện tử Chính phủ", "don_vi"),
        ("000.00.00.H41", "VP", "Văn phòng Ủy ban nhân dân tỉnh", "van_phong"),
        ("000.00.00.H41", "TH", "Phòng Tổng hợp", "phong"),
    ]

    /// Writes the demo set when the directory is empty; returns false when data already exists.
    @discardableResult
    static func seedIfEmpty(_ app: Application) async throws -> Bool {
        guard try await Agency.query(on: app.db).count() == 0 else { return false }
        // One bcrypt hash for the shared demo password keeps first start-up fast.
        let hash = try await app.password.async.hash(password)
        try await app.db.atomically { tx in
            var agencyIDs: [String: UUID] = [:]
            for record in try agencies() {
                let agency = Agency(record: record)
                try await agency.create(on: tx)
                agencyIDs[record.code.value] = agency.id
            }
            var departmentIDs: [String: UUID] = [:]
            for item in departments {
                guard let agencyID = agencyIDs[item.agency] else { continue }
                let department = Department(agencyID: agencyID, code: item.code, name: item.name, kind: item.kind)
                try await department.create(on: tx)
                departmentIDs[item.agency + "/" + item.code] = department.id
            }
            var userIDs: [String: UUID] = [:]
            for account in accounts {
                let user = User(
                    username: account.username, fullName: account.fullName,
                    agencyID: account.agency.flatMap { agencyIDs[$0] },
                    departmentID: account.agency.flatMap { a in account.department.flatMap { departmentIDs[a + "/" + $0] } },
                    roles: account.roles, passwordHash: hash, position: account.position)
                try await user.create(on: tx)
                userIDs[account.username] = user.id
            }
            if let g22 = agencyIDs["000.00.00.G22"] {
                try await CalendarService.seedDemo(agencyID: g22, users: userIDs, today: .today(), on: tx)
            }
            try await AuditLog.append("demo.seed", entity: "system",
                                      details: ["agencies": String(agencyIDs.count), "users": String(accounts.count)],
                                      by: .commandLine, on: tx)
        }
        return true
    }

    /// The start-up banner that lists the demo accounts.
    static func banner() -> String {
        var lines = ["", "Dữ liệu mẫu đã được tạo / demo data created. Tài khoản mẫu / demo accounts (mật khẩu / password: \(password)):"]
        for account in accounts {
            let roles = account.roles.map(\.rawValue).sorted().joined(separator: ",")
            lines.append("  \(account.username.padding(toLength: 16, withPad: " ", startingAt: 0)) \(roles.padding(toLength: 18, withPad: " ", startingAt: 0)) \(account.fullName)")
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}

/// `govoffice demo seed`: writes the demo data set on demand (the only way onto PostgreSQL).
struct DemoCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "seed")
        var action: String
    }

    var help: String { "Tạo dữ liệu mẫu / write the demo data set (demo seed)" }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "seed" else {
            context.console.error("Lệnh không hỗ trợ / unknown action: \(signature.action). Dùng / use: demo seed")
            throw ExitStatus(2)
        }
        if try await DemoSeeder.seedIfEmpty(context.application) {
            context.console.print(DemoSeeder.banner())
        } else {
            context.console.warning("Cơ sở dữ liệu đã có dữ liệu, không tạo dữ liệu mẫu / the database is not empty; nothing seeded.")
        }
    }
}
