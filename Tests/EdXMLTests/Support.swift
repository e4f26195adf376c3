import Foundation
import Testing

@testable import EdXML

/// The fixture folder (public VPCP SDK samples and crafted cases).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/edxml")

func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: fixtures.appendingPathComponent(name))
}

let sampleNames = ["edoc_new_0.edxml", "status_inbox_01.edxml", "status_acceptance_03.edxml", "status_finish_06.edxml"]

extension EdXMLMessage {
    var document: DocumentMessage? { if case .document(let d) = self { d } else { nil } }
    var status: StatusMessage? { if case .status(let s) = self { s } else { nil } }
}

func read(_ text: String) throws -> ParsedEdXML { try EdXMLReader.read(Data(text.utf8)) }

func codes(_ report: EdXMLReport) -> [String] { report.errors.map(\.code) }

/// A small valid document for rule tests.
func sampleSpec() -> DocumentSpec {
    var spec = DocumentSpec(
        from: Organization(organId: "000.00.00.G22", organName: "Văn phòng Chính phủ"),
        to: [Organization(organId: "000.00.00.H41", organName: "UBND tỉnh Nghệ An"),
             Organization(organId: "000.00.00.H14", organName: "UBND tỉnh Cao Bằng")],
        codeNumber: "7816", codeNotation: "VPCP-TTĐT", typeName: "Công văn",
        subject: "V/v kết nối, liên thông phần mềm quản lý văn bản")
    spec.place = "Hà Nội"
    spec.promulgationDate = "2026/11/23"
    spec.signer = SignerInfo(competence: "KT. BỘ TRƯỞNG, CHỦ NHIỆM", position: "Phó Chủ nhiệm", fullName: "Nguyễn Văn A")
    spec.toPlaces = ["Như trên", "Lưu: VT, TTĐT"]
    spec.files = [DocumentSpec.File(name: "cong-van.pdf", contentType: "application/pdf", data: Data("%PDF-1.4 Tiếng Việt".utf8))]
    spec.staff = StaffInfo(department: "Văn thư", staff: "Nguyễn Thị Văn Thư", mobile: "0912000001", email: "vanthu@chinhphu.vn")
    return spec
}
