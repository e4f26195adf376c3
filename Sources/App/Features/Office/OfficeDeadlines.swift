import Fluent
import Foundation
import GovCore
import OfficeRules
import Vapor

/// Working-day deadlines, the follow-up of incoming documents (sổ theo dõi giải quyết văn bản đến)
/// and the clerk's counts per period (received, handled, overdue).
extension OfficeService {
    /// How many working days before its deadline a document counts as due soon.
    static let dueSoonWorkingDays = 2

    /// One line of the follow-up register, and of the overdue / due-soon lists.
    struct FollowUpRow: Encodable, Sendable {
        var id: String
        var regNumber: String
        var document: String
        var handler: String
        var deadline: String
        var progress: String
        var state: String
        /// Working days past the deadline (0 when not late).
        var lateDays: Int
        /// Whether it is (or was finished) past its deadline.
        var late: Bool
        var note: String
    }

    /// How far a deadline reaches: strictly before a day (overdue), or up to and including one.
    enum DeadlineBound {
        case before(CivilDate)
        case through(CivilDate)
    }

    /// Incoming documents still open with a deadline within `bound`, earliest deadline first, of
    /// the person (`me`: handed to them), their unit (`unit`: it leads) or what they see of the
    /// agency (`agency`: everything for clerks and leaders, their own and their unit's otherwise).
    func openIncoming(for actor: OfficeActor, scope: String = "agency", deadline bound: DeadlineBound,
                      limit: Int) async throws -> [OfficeDocument] {
        var query = OfficeDocument.query(on: db).filter(\.$agencyCode == actor.agencyCode).filter(\.$direction == .incoming)
            .filter(\.$state ~~ ["registered", "assigned", "processing"]).filter(\.$deadline != nil)
        switch bound {
        case .before(let day): query = query.filter(\.$deadline < day.iso)
        case .through(let day): query = query.filter(\.$deadline <= day.iso)
        }
        switch scope {
        case "me":
            query = query.filter(\.$specialist == actor.username)
        case "unit":
            guard let unit = actor.unit else { return [] }
            query = query.filter(\.$leadUnit == unit)
        default:
            if !actor.seesAll {
                query = query.group(.or) { group in
                    group.filter(\.$specialist == actor.username)
                    if let unit = actor.unit { group.filter(\.$leadUnit == unit) }
                }
            }
        }
        return try await query.sort(\.$deadline).limit(limit).all()
    }

    /// Incoming documents still open whose deadline has passed (`overdue`: before today) or comes
    /// within ``dueSoonWorkingDays`` working days (`dueSoon`), for the person, their unit or the agency.
    func deadlines(for actor: OfficeActor, scope: String, today: CivilDate, calendar: WorkingCalendar,
                   limit: Int = 200) async throws -> (overdue: [FollowUpRow], dueSoon: [FollowUpRow]) {
        let horizon = calendar.adding(workingDays: Self.dueSoonWorkingDays, to: today)
        let docs = try await openIncoming(for: actor, scope: scope, deadline: .through(horizon), limit: limit)
        let rows = docs.map { Self.followUp($0, today: today, calendar: calendar) }
        // Overdue by date, as the home page counts it; the working days late are shown beside.
        return (rows.filter { $0.deadline < today.iso }, rows.filter { $0.deadline >= today.iso })
    }

    /// The follow-up register of `year`: every registered incoming document with its handler,
    /// deadline and progress, in incoming-number order.
    func followUpRegister(year: Int, for actor: OfficeActor, today: CivilDate, calendar: WorkingCalendar,
                          limit: Int = 100_000) async throws -> [FollowUpRow] {
        try await OfficeDocument.query(on: db).filter(\.$agencyCode == actor.agencyCode).filter(\.$direction == .incoming)
            .filter(\.$year == year).filter(\.$regNumber != nil).sort(\.$secret).sort(\.$regNumber).limit(limit).all()
            .map { Self.followUp($0, today: today, calendar: calendar) }
    }

    static func followUp(_ doc: OfficeDocument, today: CivilDate, calendar: WorkingCalendar) -> FollowUpRow {
        let deadline = doc.deadline.flatMap { try? CivilDate(parsing: $0) }
        let finished = doc.doneAt.map { CivilDate($0) }
        let open = !["done", "rejected"].contains(doc.state)
        let late = deadline.map { calendar.workingDays(after: $0, through: open ? today : (finished ?? today)) } ?? 0
        let what = [doc.typeName, doc.displayNumber, doc.promulgationDate, doc.senderName].compactMap { $0 }.filter { !$0.isEmpty }
        return FollowUpRow(
            id: doc.id?.uuidString.lowercased() ?? "", regNumber: doc.regNumber.map { ($0 < 10 ? "0" : "") + String($0) } ?? "",
            document: what.joined(separator: ", ") + ": " + doc.subject,
            handler: [doc.leadUnit, doc.specialist].compactMap { $0 }.joined(separator: " / "),
            deadline: deadline?.iso ?? "", progress: open ? "open" : (late > 0 ? "late" : "on_time"), state: doc.state,
            lateDays: late, late: late > 0, note: doc.revocation ?? "")
    }

    /// The counts a clerk reports for a period.
    struct PeriodCounts: Encodable, Sendable {
        var unit: String
        /// Incoming documents registered in the period.
        var received: Int
        /// Of all, those finished in the period.
        var handled: Int
        /// Finished in the period after their deadline.
        var handledLate: Int
        /// Open at the end of the period with their deadline passed.
        var overdue: Int
    }

    /// Received, handled and overdue incoming documents of the period `from`…`to` (inclusive),
    /// for the agency and per lead unit.
    func counts(from: CivilDate, to: CivilDate, for actor: OfficeActor, calendar: WorkingCalendar) async throws -> [PeriodCounts] {
        let periodStart = from.start()
        let periodEnd = to.adding(days: 1).start()
        // Only the documents that can count: arrived in the period, finished in it, or still open
        // (at its end) past their deadline.
        let docs = try await OfficeDocument.query(on: db).filter(\.$agencyCode == actor.agencyCode).filter(\.$direction == .incoming)
            .filter(\.$regNumber != nil)
            .group(.or) { group in
                group.group(.and) { $0.filter(\.$arrivalDate >= from.iso).filter(\.$arrivalDate <= to.iso) }
                group.group(.and) { $0.filter(\.$doneAt >= periodStart).filter(\.$doneAt < periodEnd) }
                group.group(.and) { $0.filter(\.$state ~~ ["registered", "assigned", "processing"]).filter(\.$deadline < to.iso) }
                group.group(.and) { $0.filter(\.$doneAt >= periodEnd).filter(\.$deadline < to.iso) }
            }
            .field(\.$id).field(\.$arrivalDate).field(\.$state).field(\.$deadline).field(\.$doneAt).field(\.$leadUnit)
            .all()
        var byUnit: [String: PeriodCounts] = [:]
        var total = PeriodCounts(unit: "", received: 0, handled: 0, handledLate: 0, overdue: 0)
        func add(_ unit: String?, _ change: (inout PeriodCounts) -> Void) {
            change(&total)
            let key = unit ?? "—"
            var row = byUnit[key] ?? PeriodCounts(unit: key, received: 0, handled: 0, handledLate: 0, overdue: 0)
            change(&row)
            byUnit[key] = row
        }
        for doc in docs {
            let arrival = doc.arrivalDate.flatMap { try? CivilDate(parsing: $0) }
            let deadline = doc.deadline.flatMap { try? CivilDate(parsing: $0) }
            let done = doc.doneAt.map { CivilDate($0) }
            if let arrival, arrival >= from, arrival <= to { add(doc.leadUnit) { $0.received += 1 } }
            if let done, done >= from, done <= to {
                let late = deadline.map { done > $0 } ?? false
                add(doc.leadUnit) { $0.handled += 1; if late { $0.handledLate += 1 } }
            }
            let openAtEnd = done.map { $0 > to } ?? (doc.state != "done")
            if openAtEnd, let arrival, arrival <= to, let deadline, deadline < to { add(doc.leadUnit) { $0.overdue += 1 } }
        }
        return [total] + byUnit.values.sorted { $0.unit < $1.unit }
    }
}

/// The agency calendar of working days: the Labour Code's solar holidays plus the holiday notices
/// file (`GOVOFFICE_HOLIDAYS`, or Resources/Holidays/vn.txt), read once at start-up.
enum OfficeCalendar {
    struct Key: StorageKey { typealias Value = WorkingCalendar }

    /// Reads the notices file; a bad line stops start-up with the line number (a deadline computed
    /// on a wrong calendar would be wrong for months before anyone noticed).
    static func load(_ app: Application) throws {
        let path = app.govConfig.holidaysPath ?? app.directory.resourcesDirectory + "Holidays/vn.txt"
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw GovError("holiday_data_unreadable", .invalid, vi: "Không đọc được tệp ngày nghỉ \(path).",
                           en: "The holiday data file \(path) cannot be read.")
        }
        app.storage[Key.self] = WorkingCalendar(years: 2000...2100, data: try HolidayData(parsing: text))
    }
}

extension Application {
    /// The working-day calendar (weekends and holidays) deadlines are computed on.
    var workingCalendar: WorkingCalendar { storage[OfficeCalendar.Key.self] ?? WorkingCalendar(years: 2000...2100) }
}

extension Request {
    var workingCalendar: WorkingCalendar { application.workingCalendar }
}
