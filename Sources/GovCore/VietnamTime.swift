import Foundation

/// Vietnam's civil time, in which every date and time the platform shows or sends is written
/// (edXML, registers, deadlines), whatever zone the server runs in.
public enum VietnamTime {
    /// Asia/Ho_Chi_Minh. Not a fixed UTC+7: the zone database knows Saigon's earlier offsets.
    public static let zone: TimeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? TimeZone(secondsFromGMT: 7 * 3600)!

    /// The Gregorian calendar in Vietnam's zone.
    public static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// Year, month, day, hour, minute and second of `date` in Vietnam.
    public static func components(_ date: Date) -> DateComponents {
        calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }
}
