import Foundation
import GovCore
import Testing

@Suite struct LanguageTests {
    @Test(arguments: [
        ("en", Language.en),
        ("en-US,en;q=0.9", .en),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", .vi),
        ("en-GB;q=0.8, vi;q=0.9", .vi),
        ("vi;q=0.2, en;q=0.8", .en),
        ("fr-FR, en;q=0.5", .en),
        ("EN-us", .en),
        ("en;q=0.5, vi;q=0.5", .en),
        ("vi;q=0.5, en;q=0.5", .vi),
        ("en;q=0, vi;q=0.1", .vi),
        ("en;q=0", .vi),
        ("*;q=0.9, en;q=0.5", .vi),
        ("en;q=0.5, *;q=0.4", .en),
    ])
    func picksByQuality(header: String, expected: Language) {
        #expect(Language(acceptLanguage: header) == expected)
    }

    @Test(arguments: [nil, "", "   ", ",,,", "fr", "de-DE,ja;q=0.5", "en;q=abc", "en;q=2", "en;q=-1", ";q=1", "english"])
    func unknownOrBadHeadersGiveVietnamese(header: String?) {
        #expect(Language(acceptLanguage: header) == .vi)
    }

    @Test func defaultIsVietnamese() {
        #expect(Language.default == .vi)
    }

    @Test func hugeHeaderDoesNotHang() {
        let header = Array(repeating: "fr;q=0.9", count: 10_000).joined(separator: ",") + ",en"
        // Only the first entries count; the point is that it returns promptly with the default.
        #expect(Language(acceptLanguage: header) == .vi)
    }
}

@Suite struct TranslationsTests {
    let catalogue = Translations(tables: [
        .vi: ["greet": "Xin chào {name}", "only.vi": "Chỉ tiếng Việt", "two": "{a} và {b}"],
        .en: ["greet": "Hello {name}", "only.en": "English only", "two": "{a} and {b}"],
    ])

    @Test func looksUpInLanguage() {
        #expect(catalogue.t("greet", .en, ["name": "Lan"]) == "Hello Lan")
        #expect(catalogue.t("greet", .vi, ["name": "Lan"]) == "Xin chào Lan")
    }

    @Test func fallsBackToVietnameseThenKey() {
        #expect(catalogue.t("only.vi", .en) == "Chỉ tiếng Việt")
        #expect(catalogue.t("nowhere.key", .en) == "nowhere.key")
        #expect(catalogue.t("only.en", .vi) == "only.en")
    }

    @Test func placeholdersWithoutArgumentsStay() {
        #expect(catalogue.t("greet", .en) == "Hello {name}")
        #expect(catalogue.t("two", .en, ["a": "X"]) == "X and {b}")
    }

    @Test func substitutionIsSinglePass() {
        // A user-supplied value must not be able to pull in another argument.
        #expect(catalogue.t("two", .en, ["a": "{b}", "b": "secret"]) == "{b} and secret")
    }

    @Test func oddBracesAreKept() {
        let t = Translations(tables: [.vi: ["k": "{ {x} } {unclosed", "n": "{{x}}"]])
        #expect(t.t("k", .vi, ["x": "1"]) == "{ 1 } {unclosed")
        #expect(t.t("n", .vi, ["x": "1"]) == "{1}")
    }

    @Test func keysAndMissingKeys() {
        #expect(catalogue.keys(.vi) == ["greet", "only.vi", "two"])
        let missing = catalogue.missingKeys()
        #expect(missing[.en] == ["only.vi"])
        #expect(missing[.vi] == ["only.en"])
    }

    @Test func completeCatalogueHasNoMissingKeys() {
        let t = Translations(tables: [.vi: ["a": "A", "b": "B"], .en: ["b": "B", "a": "A"]])
        #expect(t.missingKeys().isEmpty)
    }

    @Test func missingLanguageTableActsEmpty() {
        let t = Translations(tables: [.vi: ["b": "1", "a": "2"]])
        #expect(t.keys(.en).isEmpty)
        #expect(t.missingKeys()[.en] == ["a", "b"])
        #expect(t.t("a", .en) == "2")
    }

    private func makeDirectory(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("govcore-tr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, content) in files {
            try Data(content.utf8).write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    @Test func loadsDirectory() throws {
        let dir = try makeDirectory([
            "vi.json": #"{"app.title": "Văn phòng điện tử", "hello": "Chào {name}"}"#,
            "en.json": #"{"app.title": "E-Office"}"#,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Translations(directory: dir)
        #expect(t.t("app.title", .en) == "E-Office")
        #expect(t.t("hello", .en, ["name": "An"]) == "Chào An")
        #expect(t.missingKeys() == [.en: ["hello"]])
    }

    @Test func missingFileIsAClearError() throws {
        let dir = try makeDirectory(["vi.json": #"{"a": "b"}"#])
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Translations(directory: dir)
            Issue.record("expected an error")
        } catch let error as GovError {
            #expect(error.code == "translations_file_missing")
            #expect(error.en.contains("en.json"))
        }
    }

    @Test(arguments: [
        #"{"a": {"nested": "x"}}"#,
        #"{"a": 1}"#,
        #"["a", "b"]"#,
        #"{"a": null}"#,
        "not json",
        "",
    ])
    func nonFlatFileIsRejected(content: String) throws {
        let dir = try makeDirectory(["vi.json": #"{"a": "b"}"#, "en.json": content])
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Translations(directory: dir)
            Issue.record("expected an error")
        } catch let error as GovError {
            #expect(error.code == "translations_file_invalid")
            #expect(error.en.contains("en.json"))
        }
    }
}
