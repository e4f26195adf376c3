/// A domain rule violation that can be shown to a person in Vietnamese or English.
///
/// `code` is stable and machine-readable (clients and tests match on it); the messages are for people
/// and may be reworded at any time, which is why equality ignores them.
public struct GovError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad category of failure, so a transport layer can choose a status without knowing every code.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// The input breaks a validation rule.
        case invalid
        /// The caller is not authenticated, or its credentials are wrong.
        case unauthorized
        /// The caller is authenticated but not allowed to do this.
        case forbidden
        /// The thing asked for does not exist (or must not be revealed to exist).
        case notFound
        /// The request clashes with the current state (duplicates, stale edits).
        case conflict
        /// The input is larger than the platform accepts.
        case tooLarge
        /// The account or object is locked for now.
        case locked
        /// The caller must slow down and retry later.
        case tooManyRequests
        /// The thing existed but its content is gone for good (purged under a retention policy).
        case gone
        /// The request is well-formed but names things that cannot be used (unknown recipients).
        case unprocessable
        /// The body is of a media type the route does not take.
        case unsupportedMediaType

        /// The HTTP status conventionally used for this kind; GovCore itself never speaks HTTP.
        public var httpStatus: Int {
            switch self {
            case .invalid: return 400
            case .unauthorized: return 401
            case .forbidden: return 403
            case .notFound: return 404
            case .conflict: return 409
            case .tooLarge: return 413
            case .locked: return 423
            case .tooManyRequests: return 429
            case .gone: return 410
            case .unprocessable: return 422
            case .unsupportedMediaType: return 415
            }
        }
    }

    /// Stable snake_case identifier, e.g. `agency_code_invalid`.
    public let code: String
    /// The category of the failure.
    public let kind: Kind
    /// Vietnamese message, with diacritics.
    public let vi: String
    /// English message.
    public let en: String

    /// Creates an error; `code` must stay stable once published because clients match on it.
    public init(_ code: String, _ kind: Kind, vi: String, en: String) {
        self.code = code
        self.kind = kind
        self.vi = vi
        self.en = en
    }

    /// The message for people who read `language`.
    public func message(in language: Language) -> String {
        switch language {
        case .vi: return vi
        case .en: return en
        }
    }

    /// Two errors are the same when `code` and `kind` match; messages are presentation only.
    public static func == (lhs: GovError, rhs: GovError) -> Bool {
        lhs.code == rhs.code && lhs.kind == rhs.kind
    }

    /// Code, kind and English message, for logs.
    public var description: String {
        "\(code) (\(kind.rawValue)): \(en)"
    }
}

/// Something suspicious but accepted (e.g. a non-standard agency code): shown to the person, never blocking.
public struct GovWarning: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Stable snake_case identifier, e.g. `agency_code_nonstandard`.
    public let code: String
    /// Vietnamese message, with diacritics.
    public let vi: String
    /// English message.
    public let en: String

    /// Creates a warning; `code` must stay stable once published.
    public init(_ code: String, vi: String, en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }

    /// The message for people who read `language`.
    public func message(in language: Language) -> String {
        switch language {
        case .vi: return vi
        case .en: return en
        }
    }

    /// `code: en`, for logs.
    public var description: String { "\(code): \(en)" }
}
