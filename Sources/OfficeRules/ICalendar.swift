import Foundation

/// One entry of a work or meeting calendar (lịch công tác, lịch họp), as a calendar app shows it.
public struct CalendarEntry: Sendable, Equatable {
    /// Stable across edits, unique across agencies (e.g. `UUID@govoffice.G22`): apps update by it.
    public var uid: String
    /// Start of the entry.
    public var start: Date
    /// End of the entry (after `start`).
    public var end: Date
    /// The title ("Họp giao ban tuần").
    public var summary: String
    /// The room or place.
    public var location: String?
    /// Free text: agenda, participants' units, preparation.
    public var details: String?
    /// When the entry last changed; apps refresh on it.
    public var lastModified: Date
    /// Whether the entry was cancelled (kept in the feed so apps remove it).
    public var cancelled: Bool

    /// An entry.
    public init(uid: String, start: Date, end: Date, summary: String, location: String? = nil, details: String? = nil,
                lastModified: Date, cancelled: Bool = false) {
        self.uid = uid
        self.start = start
        self.end = end
        self.summary = summary
        self.location = location
        self.details = details
        self.lastModified = lastModified
        self.cancelled = cancelled
    }
}

/// An iCalendar (RFC 5545) feed that calendar apps subscribe to: CRLF lines folded at 75 octets,
/// TEXT values escaped, times in UTC so that no VTIMEZONE block is needed.
public enum ICalendarFeed {
    /// The feed of `entries`, named `name` in the subscriber's app.
    public static func render(name: String, entries: [CalendarEntry], now: Date = Date()) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//GovOffice//Lich cong tac//VI", "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH", "X-WR-CALNAME:" + escape(name), "X-WR-TIMEZONE:Asia/Ho_Chi_Minh",
        ]
        for entry in entries {
            lines += ["BEGIN:VEVENT", "UID:" + escape(entry.uid), "DTSTAMP:" + utc(now),
                      "DTSTART:" + utc(entry.start), "DTEND:" + utc(max(entry.end, entry.start)),
                      "LAST-MODIFIED:" + utc(entry.lastModified), "SUMMARY:" + escape(entry.summary)]
            if let location = entry.location { lines.append("LOCATION:" + escape(location)) }
            if let details = entry.details { lines.append("DESCRIPTION:" + escape(details)) }
            lines.append("STATUS:" + (entry.cancelled ? "CANCELLED" : "CONFIRMED"))
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        var previous: Character?
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\r\n", "\n": out += "\\n"
            case "\r": if previous != "\n" { out += "\\n" }
            default:
                // Other control characters are not allowed in TEXT.
                if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
                   scalar.value < 0x20 || scalar.value == 0x7F {
                    out += " "
                } else {
                    out.append(character)
                }
            }
            previous = character
        }
        return out
    }

    /// A content line folded into lines of at most 75 octets (§3.1), never inside a UTF-8 character
    /// or a grapheme: continuation lines start with one space.
    public static func fold(_ line: String) -> String {
        var result: [String] = []
        var current = ""
        var octets = 0
        for character in line {
            let size = String(character).utf8.count
            let limit = result.isEmpty ? 75 : 74  // a continuation line's leading space counts
            if octets + size > limit {
                result.append(current)
                current = ""
                octets = 0
            }
            current.append(character)
            octets += size
        }
        result.append(current)
        return result.enumerated().map { $0.offset == 0 ? $0.element : " " + $0.element }.joined(separator: "\r\n")
    }

    /// `yyyyMMddTHHmmssZ` (§3.3.5, form 2: UTC).
    static let utcStyle = Date.ISO8601FormatStyle(dateSeparator: .omitted, dateTimeSeparator: .standard,
                                                  timeSeparator: .omitted, timeZone: TimeZone(identifier: "UTC")!)

    static func utc(_ date: Date) -> String {
        date.formatted(utcStyle)
    }
}
