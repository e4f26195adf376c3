import Foundation
import GovCore
import Leaf
import Vapor

extension Application {
    private struct TranslationsKey: StorageKey { typealias Value = Translations }

    /// The Vietnamese and English string tables (`Resources/Locales`).
    var translations: Translations {
        get { storage[TranslationsKey.self] ?? Translations(tables: [:]) }
        set { storage[TranslationsKey.self] = newValue }
    }
}

extension Request {
    private struct LanguageKey: StorageKey { typealias Value = Language }

    /// The language of this request: `?lang=`, then the `govoffice_lang` cookie; for API clients
    /// also `Accept-Language`. Pages stay Vietnamese until a person picks English, because most
    /// office browsers announce English whatever their users read.
    var language: Language {
        get {
            if let cached = storage[LanguageKey.self] { return cached }
            let resolved = Self.resolveLanguage(self)
            storage[LanguageKey.self] = resolved
            return resolved
        }
        set { storage[LanguageKey.self] = newValue }
    }

    private static func resolveLanguage(_ req: Request) -> Language {
        if let query = try? req.query.get(String.self, at: "lang"), let lang = Language(rawValue: query) {
            return lang
        }
        if let cookie = req.cookies[LanguageCookie.name]?.string, let lang = Language(rawValue: cookie) {
            return lang
        }
        if AppErrorMiddleware.wantsJSON(req) {
            return Language(acceptLanguage: req.headers.first(name: .acceptLanguage))
        }
        return .vi
    }

    /// Translates `key` into this request's language.
    func t(_ key: String, _ args: [String: String] = [:]) -> String {
        application.translations.t(key, language, args)
    }
}

/// The cookie that remembers the language a person chose.
enum LanguageCookie {
    static let name = "govoffice_lang"

    /// `Secure` is added by CookieSecurityMiddleware, like for every other cookie.
    static func value(_ language: Language) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: language.rawValue, maxAge: 365 * 24 * 3600, path: "/", isHTTPOnly: true, sameSite: .lax)
    }
}

/// `#t("key")` in templates: the one way a template shows text, so no string is hard-coded.
/// Extra arguments come in pairs: `#t("users.count", "n", count)` fills `{n}`.
struct TranslateTag: LeafTag {
    func render(_ ctx: LeafContext) throws -> LeafData {
        guard let key = ctx.parameters.first?.string else {
            throw Abort(.internalServerError, reason: "#t needs a string key as its first parameter")
        }
        var args: [String: String] = [:]
        var index = 1
        while index + 1 < ctx.parameters.count {
            if let name = ctx.parameters[index].string {
                args[name] = ctx.parameters[index + 1].string ?? ""
            }
            index += 2
        }
        guard let req = ctx.request else { return .string(key) }
        return .string(req.t(key, args))
    }
}
