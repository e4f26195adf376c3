import Foundation
import GovCore
import Testing

@Suite struct SearchTextTests {
    @Test(arguments: [
        ("Văn phòng Chính phủ", "van phong chinh phu"),
        ("ĐẮK LẮK", "dak lak"),
        ("  Bộ   Nội\tvụ \n", "bo noi vu"),
        ("Thừa Thiên Huế", "thua thien hue"),
        ("Ủy ban nhân dân tỉnh Đồng Tháp", "uy ban nhan dan tinh dong thap"),
        ("Ð (eth used as Đ) ð", "d (eth used as d) d"),
        ("", ""),
        ("   ", ""),
        ("ABC-123_x%", "abc-123_x%"),
    ])
    func folds(input: String, expected: String) {
        #expect(SearchText.fold(input) == expected)
    }

    @Test func decomposedAndPrecomposedFoldAlike() {
        let precomposed = "Nguyễn Thị Hằng".precomposedStringWithCanonicalMapping
        let decomposed = "Nguyễn Thị Hằng".decomposedStringWithCanonicalMapping
        #expect(Array(precomposed.unicodeScalars) != Array(decomposed.unicodeScalars))
        #expect(SearchText.fold(precomposed) == "nguyen thi hang")
        #expect(SearchText.fold(decomposed) == "nguyen thi hang")
    }

    @Test func foldIsIdempotent() {
        let once = SearchText.fold("Sở Tài nguyên và Môi trường")
        #expect(SearchText.fold(once) == once)
    }

    @Test func likePattern() {
        #expect(SearchText.likePattern(containing: "Hà Nội") == "%ha noi%")
        #expect(SearchText.likePattern(containing: "50%_off\\") == #"%50\%\_off\\%"#)
        #expect(SearchText.likePattern(containing: "") == "%%")
        #expect(SearchText.likeEscape == "\\")
    }
}
