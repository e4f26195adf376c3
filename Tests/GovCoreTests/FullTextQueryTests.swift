import Testing

@testable import GovCore

@Suite("Full-text query terms")
struct FullTextQueryTests {
    @Test("terms are folded words; operators, quotes and SQL are only separators")
    func termsAreFoldedWords() {
        #expect(FullTextQuery("Quyết định 12/QĐ-UBND").terms == ["quyet", "dinh", "12", "qd", "ubnd"])
        #expect(FullTextQuery("' OR 1=1 --").terms == ["or", "1"])
        #expect(FullTextQuery("\"quyet\" NEAR(*").terms == ["quyet", "near"])
        #expect(FullTextQuery(" *:& ").isEmpty)
    }

    @Test("the engine queries ask for every term as a whole word")
    func engineQueries() {
        let query = FullTextQuery("văn thư")
        #expect(query.fts5 == "\"van\" AND \"thu\"")
        #expect(query.tsquery == "van & thu")
    }

    @Test("at most eight distinct terms, each at most 64 characters")
    func bounded() {
        let many = FullTextQuery((1...20).map { "w\($0)" }.joined(separator: " ") + " w1")
        #expect(many.terms.count == FullTextQuery.maxTerms)
        #expect(FullTextQuery(String(repeating: "a", count: 500)).terms == [String(repeating: "a", count: 64)])
    }

    @Test("indexed text is the same words the query splits into")
    func indexText() {
        #expect(FullTextQuery.indexText("Số: 12/QĐ-UBND — Quyết định") == "so 12 qd ubnd quyet dinh")
    }
}
