import Foundation
import GovCore
import Testing

@testable import App

@Suite("Localisation: every string of every template in both languages")
struct LocalizationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func bothLocaleFilesHaveTheSameKeys() throws {
        let translations = try Translations(directory: Self.root.appendingPathComponent("Resources/Locales"))
        #expect(translations.missingKeys().isEmpty, "\(translations.missingKeys())")
        #expect(translations.keys(.vi).count > 100)
    }

    @Test func everyKeyATemplateUsesExists() throws {
        let translations = try Translations(directory: Self.root.appendingPathComponent("Resources/Locales"))
        let known = translations.keys(.vi)
        let views = Self.root.appendingPathComponent("Resources/Views")
        let files = FileManager.default.enumerator(at: views, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "leaf" }
        #expect(files.count >= 10)
        let pattern = try NSRegularExpression(pattern: #"#t\("([a-z0-9_.]+)""#)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let keys = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                String(text[Range($0.range(at: 1), in: text)!])
            }
            for key in keys { #expect(known.contains(key), "\(file.lastPathComponent): \(key)") }
        }
    }

    @Test func everyRoleHasALabel() throws {
        let translations = try Translations(directory: Self.root.appendingPathComponent("Resources/Locales"))
        for role in Role.allCases {
            #expect(translations.t(role.labelKey, .vi) != role.labelKey)
            #expect(translations.t(role.labelKey, .en) != role.labelKey)
        }
    }

    @Test func templatesHardCodeNoVisibleText() throws {
        // Text between tags must come from #t(...) or data: a letter run outside tags and Leaf
        // expressions is a hard-coded string. Unit kinds in the department form are data values.
        let views = Self.root.appendingPathComponent("Resources/Views")
        let files = FileManager.default.enumerator(at: views, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "leaf" }
        let allowed: Set<String> = ["GovOffice", "X-SystemId", "X-SecretKey", "IP", "Phòng", "Vụ", "Cục", "Văn phòng", "Đơn vị"]
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let stripped = text.replacingOccurrences(of: #"<[^>]*>"#, with: "\n", options: .regularExpression)
                .replacingOccurrences(of: #"#[a-zA-Z]*\([^\n]*?\)\:?"#, with: "\n", options: .regularExpression)
                .replacingOccurrences(of: #"#(else|endif|endfor|endexport|endextend)\:?"#, with: "\n", options: .regularExpression)
            for line in stripped.split(separator: "\n") {
                let words = line.trimmingCharacters(in: .whitespaces.union(.punctuationCharacters).union(.symbols))
                guard words.rangeOfCharacter(from: .letters) != nil else { continue }
                #expect(allowed.contains(words), "\(file.lastPathComponent): hard-coded '\(words)'")
            }
        }
    }
}
