import Foundation
import GovCore

/// Times as Vietnamese offices read them: day first, in Vietnam's zone.
enum DisplayTime {
    static func format(_ date: Date?) -> String {
        guard let date else { return "" }
        let c = VietnamTime.components(date)
        return String(format: "%02d/%02d/%04d %02d:%02d:%02d", c.day ?? 0, c.month ?? 0, c.year ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }
}
