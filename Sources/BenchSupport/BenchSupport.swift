import EdXML
import Foundation

// What the benchmark executables share: the documents they measure, the timing loop and the
// TSV row format that bench/*.sh turn into tables.

/// A realistic document: VPCP to 12 provinces, long subject and summary, 10 places, `files`.
public func benchmarkSpec(files: [DocumentSpec.File]) -> DocumentSpec {
    var spec = DocumentSpec(
        from: Organization(organId: "000.00.00.G22", organName: "Văn phòng Chính phủ",
                           organAdd: "Số 1 Hoàng Hoa Thám, Ba Đình, Hà Nội", email: "vpcp@chinhphu.vn"),
        to: (1...12).map { Organization(organId: String(format: "000.00.00.H%02d", $0), organName: "Ủy ban nhân dân tỉnh số \($0)") },
        codeNumber: "7816", codeNotation: "VPCP-TTĐT", typeName: "Công văn",
        subject: String(repeating: "V/v kết nối, liên thông phần mềm quản lý văn bản; ", count: 20))
    spec.content = String(repeating: "Nội dung tóm tắt của văn bản điện tử gửi qua Trục liên thông. ", count: 40)
    spec.place = "Hà Nội"
    spec.promulgationDate = "2026/11/23"
    spec.toPlaces = (1...10).map { "Nơi nhận số \($0)" }
    spec.files = files
    return spec
}

/// Runs `body` repeatedly for at least `seconds`; returns how many runs and the time they took.
public func timed(_ seconds: Double = 2.0, _ body: () throws -> Void) rethrows -> (count: Int, elapsed: Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    var count = 0
    var elapsed = 0.0
    repeat {
        try body()
        count += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds
    return (count, elapsed)
}

/// Prints one result as `measure<TAB>value<TAB>unit<TAB>target`. A value that was not measured
/// (nil, NaN, infinite: no samples, nothing to divide by) is written `n/a`, which the result file
/// keeps as null, never as a number such as 0 that would read as a measurement.
public func row(_ measure: String, _ value: Double?, _ unit: String, _ target: String = "-") {
    let text: String
    if let value, value.isFinite {
        text = String(format: value >= 100 ? "%.0f" : value >= 1 ? "%.2f" : "%.3f", value)
    } else {
        text = "n/a"
    }
    print("\(measure)\t\(text)\t\(unit)\t\(target)")
}

/// The 10 KB document (a 2.5 KB attachment) every benchmark measures.
public func tenKilobyteDocument() -> EdXMLMessage {
    .document(EdXMLBuilder.document(benchmarkSpec(files: [
        .init(name: "a.pdf", contentType: "application/pdf", data: Data((0..<2500).map { UInt8($0 % 256) })),
    ])))
}

/// The document with a 1 MB attachment every benchmark measures.
public func oneMegabyteAttachmentDocument() -> EdXMLMessage {
    .document(EdXMLBuilder.document(benchmarkSpec(files: [
        .init(name: "b.pdf", contentType: "application/pdf",
              data: Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })),
    ])))
}
