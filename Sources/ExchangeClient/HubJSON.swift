import Foundation

/// The hub's JSON conventions in one place: snake_case keys are spelled out in each model's
/// `CodingKeys`, and times are ISO 8601 UTC.
enum HubJSON {
    /// A decoder for hub responses. Times are accepted with or without fractional seconds and with
    /// any UTC offset: the contract promises whole seconds in UTC, but refusing a valid instant
    /// would turn a harmless server change into an outage for every agency.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 time: \(text.prefix(40))")
            }
            return date
        }
        return decoder
    }

    /// An encoder for request bodies (and for re-encoding models), writing whole-second UTC times
    /// like the hub does.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatDate(date))
        }
        return encoder
    }

    static func parseDate(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }

    static func formatDate(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }
}

extension ExchangeClient {
    /// A decoder with the hub's conventions (ISO 8601 UTC times, fractional seconds tolerated), for
    /// systems that store the models or read hub JSON from elsewhere (a webhook relay, a log).
    public static func makeJSONDecoder() -> JSONDecoder { HubJSON.decoder() }

    /// An encoder writing the models exactly as the hub does (whole-second UTC times, sorted keys).
    public static func makeJSONEncoder() -> JSONEncoder { HubJSON.encoder() }
}
