import Fluent
import Foundation
import GovCore
import Vapor

/// A meeting room of an agency.
final class CalendarRoom: Model, @unchecked Sendable {
    static let schema = "calendar_rooms"

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_id") var agencyID: UUID
    @Field(key: "name") var name: String
    @OptionalField(key: "capacity") var capacity: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(agencyID: UUID, name: String, capacity: Int?) {
        self.agencyID = agencyID
        self.name = name
        self.capacity = capacity
    }
}

/// What an entry is: a work item of the agency or a leader (lịch công tác) or a meeting (lịch họp).
enum CalendarKind: String, CaseIterable, Codable, Sendable {
    case work, meeting

    var labelKey: String { "calendar.kind.\(rawValue)" }
}

/// One entry of the calendar. `hostUserID` nil means the agency's own entry (lịch chung); otherwise it
/// is the leader whose calendar it is.
final class CalendarEntryRecord: Model, @unchecked Sendable {
    static let schema = "calendar_entries"

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_id") var agencyID: UUID
    @Field(key: "kind") var kind: String
    @Field(key: "title") var title: String
    @Field(key: "start_at") var startAt: Date
    @Field(key: "end_at") var endAt: Date
    @OptionalField(key: "room_id") var roomID: UUID?
    @OptionalField(key: "location") var location: String?
    @Field(key: "details") var details: String
    @OptionalField(key: "host_user_id") var hostUserID: UUID?
    @Field(key: "cancelled") var cancelled: Bool
    @Field(key: "created_by") var createdBy: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var calendarKind: CalendarKind { CalendarKind(rawValue: kind) ?? .work }
}

/// The SHA-256 of one feed's secret: calendar apps cannot sign in, so the URL itself is the key.
/// `userID` nil is the agency's feed; otherwise the person's.
final class CalendarFeedToken: Model, @unchecked Sendable {
    static let schema = "calendar_feed_tokens"

    @ID(key: .id) var id: UUID?
    @OptionalField(key: "user_id") var userID: UUID?
    @Field(key: "agency_id") var agencyID: UUID
    @Field(key: "token_hash") var tokenHash: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(userID: UUID?, agencyID: UUID, tokenHash: String) {
        self.userID = userID
        self.agencyID = agencyID
        self.tokenHash = tokenHash
    }
}

/// Calendar dates and times as Vietnamese offices keep them: weeks from Monday, times in Vietnam.
enum CalendarTime {
    /// The Monday of the week `date` is in.
    static func monday(of date: CivilDate) -> CivilDate {
        // Foundation's weekday: 1 = Sunday … 7 = Saturday.
        let weekday = VietnamTime.calendar.component(.weekday, from: date.start())
        return date.adding(days: -((weekday + 5) % 7))
    }

    static let timeInvalid = GovError(
        "calendar_time_invalid", .invalid,
        vi: "Thời gian không hợp lệ; dùng dạng yyyy-MM-dd HH:mm.",
        en: "Invalid time; use yyyy-MM-dd HH:mm.")

    /// Parses what a `datetime-local` input sends (`yyyy-MM-ddTHH:mm`, seconds allowed) or the same
    /// with a space, typed by hand where the browser has no date picker; the time is Vietnam's.
    static func parse(_ raw: String) throws(GovError) -> Date {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = text.split(whereSeparator: { $0 == "T" || $0 == " " })
        guard parts.count == 2, parts[0].count == 10 else { throw timeInvalid }
        let date: CivilDate
        do { date = try CivilDate(parsing: String(parts[0])) } catch { throw timeInvalid }
        let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(clock.count), clock.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
              let hour = Int(clock[0]), let minute = Int(clock[1]), (0..<24).contains(hour), (0..<60).contains(minute),
              clock.count == 2 || Int(clock[2]).map({ (0..<60).contains($0) }) == true else { throw timeInvalid }
        let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute)
        guard let value = VietnamTime.calendar.date(from: components) else { throw timeInvalid }
        return value
    }

    /// `yyyy-MM-ddTHH:mm` in Vietnam, what a `datetime-local` input shows.
    static func inputValue(_ date: Date) -> String {
        let c = VietnamTime.components(date)
        return String(format: "%04d-%02d-%02dT%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// `HH:mm` in Vietnam.
    static func clock(_ date: Date) -> String {
        let c = VietnamTime.components(date)
        return String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
    }

    /// `dd/MM` in Vietnam.
    static func dayMonth(_ date: CivilDate) -> String {
        String(format: "%02d/%02d", date.day, date.month)
    }
}
