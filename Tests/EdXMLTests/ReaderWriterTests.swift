import Foundation
import Testing
import XMLKit

@testable import EdXML

@Suite("edXML read and write")
struct ReaderWriterTests {
    @Test(arguments: sampleNames)
    func everySampleRoundTrips(name: String) throws {
        let original = try EdXMLReader.read(try fixture(name))
        let written = try EdXMLWriter.write(original.message)
        let again = try EdXMLReader.read(written)
        #expect(again.message == original.message)
        // Writing twice gives identical bytes.
        #expect(try EdXMLWriter.write(again.message) == written)
        // The original bytes are kept exactly.
        #expect(original.original == (try fixture(name)))
    }

    @Test func newDocumentSampleReadsEveryField() throws {
        let doc = try #require(try EdXMLReader.read(try fixture("edoc_new_0.edxml")).message.document)
        #expect(doc.header.from.organId == "000.00.00.G22")
        #expect(doc.header.from.organAdd == "Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội")
        #expect(doc.header.to.map(\.organId) == ["000.00.00.H41", "000.00.00.H14", "000.00.00.G17"])
        #expect(doc.header.code == DocumentCode(codeNumber: "7816", codeNotation: "VPCP-TTĐT"))
        #expect(doc.header.documentId == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
        #expect(doc.header.promulgationInfo?.place == "Hà Nội")
        #expect(doc.header.documentType?.typeName == "Công văn")
        #expect(doc.header.subject == "V/v kết nối, liên thông phần mềm quản lý văn bản")
        #expect(doc.header.signerInfo?.competence == "TL. BO TRUONG")
        #expect(doc.header.otherInfo?.sphereOfPromulgation == "Liên thông văn bản quốc gia")
        #expect(doc.header.otherInfo?.direction == "false")
        #expect(doc.header.otherInfo?.appendixes == ["Công văn về việc kết nối, liên thông phần mềm quản lý văn bản"])
        #expect(doc.header.steeringType == "1")
        #expect(doc.header.toPlaces == ["Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP"])
        #expect(doc.business?.docType == .new)
        #expect(doc.business?.staffInfo?.staff == "Nguyễn Thị Ngọc Trâm")
        #expect(doc.traces == [TraceHeader(organId: "000.00.00.G22", timestamp: "2019/04/11 00:00:00")])
        #expect(doc.manifest.count == 1)
        #expect(doc.manifest.first?.contentId == "cid:209")
        #expect(doc.attachments.count == 1)
        #expect(doc.attachments.first?.content == Data())
        #expect(doc.signature != nil)
    }

    @Test func statusSamplesReadCodeAndReference() throws {
        for (name, code) in [("status_inbox_01.edxml", StatusCode.arrived), ("status_acceptance_03.edxml", .accepted),
                             ("status_finish_06.edxml", .done)] {
            let status = try #require(try EdXMLReader.read(try fixture(name)).message.status, "\(name)")
            #expect(status.status == code)
            #expect(status.from.organId == "000.00.00.H41")
            #expect(status.responseFor.documentId == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
            #expect(status.responseFor.code == "7816/VPCP-TTĐT")
            #expect(status.staffInfo?.staff == "Nguyen thi ngoc tram")
        }
    }

    @Test func writerEmitsTheSDKLayout() throws {
        let written = try EdXMLWriter.write(.document(EdXMLBuilder.document(sampleSpec(), at: Date(timeIntervalSince1970: 1_767_225_600))))
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">\n  <edXML:edXMLEnvelope xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">\n    <edXML:edXMLHeader>\n      <edXML:MessageHeader>\n        <edXML:From>\n          <edXML:OrganId>000.00.00.G22</edXML:OrganId>"))
        let order = ["<edXML:From>", "<edXML:To>", "<edXML:DocumentId>", "<edXML:Code>", "<edXML:PromulgationInfo>",
                     "<edXML:DocumentType>", "<edXML:Subject>", "<edXML:Content>", "<edXML:SignerInfo>",
                     "<edXML:OtherInfo>", "<edXML:ToPlaces>", "<edXML:TraceHeaderList>", "<edXML:Bussiness>",
                     "<edXML:TraceHeader>", "<edXML:edXMLBody>", "<AttachmentEncoded>"]
        let positions = order.map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(zip(order, positions).filter { $0.1 == nil }.map(\.0))")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(text.contains("<edXML:PromulgationDate>2026/11/23</edXML:PromulgationDate>"))
        // 2026-01-01 00:00 UTC is 07:00 in Vietnam (tzdata knows Saigon was UTC+8 before 1975: no fixed offset).
        #expect(text.contains("<edXML:Timestamp>2026/01/01 07:00:00</edXML:Timestamp>"), "Vietnam time, no zone")
        #expect(text.contains("<edXML:ContentTransferEncoded xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">"))
    }

    @Test func vietnameseSurvivesEveryTextField() throws {
        let phrase = "Quyết định về việc điều động cán bộ — “đặc biệt” & <khẩn> Ừ ĐẮK LẮK ỹ ự ẫ"
        var spec = sampleSpec()
        spec.subject = phrase
        spec.content = phrase
        spec.place = phrase
        spec.typeName = phrase
        spec.signer = SignerInfo(competence: phrase, position: phrase, fullName: phrase)
        spec.toPlaces = [phrase]
        spec.sphereOfPromulgation = phrase
        spec.appendixes = [phrase]
        spec.from.organName = phrase
        spec.from.organAdd = phrase
        spec.staff = StaffInfo(department: phrase, staff: phrase, mobile: "1", email: "a@b.vn")
        let message = EdXMLMessage.document(EdXMLBuilder.document(spec))
        let bytes = try EdXMLWriter.write(message)
        #expect(try EdXMLReader.read(bytes).message == message)
        // NFD input (decomposed diacritics) is kept as it was sent, not normalised.
        let decomposed = phrase.decomposedStringWithCanonicalMapping
        var nfd = spec
        nfd.subject = decomposed
        let nfdMessage = EdXMLMessage.document(EdXMLBuilder.document(nfd))
        let nfdRead = try EdXMLReader.read(try EdXMLWriter.write(nfdMessage))
        #expect(nfdRead.message.document?.header.subject?.unicodeScalars.elementsEqual(decomposed.unicodeScalars) == true)
    }

    @Test func prefixedUnprefixedAndReorderedInputsReadTheSame() throws {
        let canonical = try EdXMLReader.read(try fixture("status_acceptance_03.edxml")).message
        let unprefixed = """
        <?xml version="1.0" encoding="UTF-8"?>
        <edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader>
        <Timestamp>2015/09/20 11:08:36</Timestamp>
        <StatusCode>03</StatusCode>
        <Description>Văn thư cơ - Phòng Văn thư - Lưu trữ: Tiếp nhận văn bản điện tử, vào sổ văn bản đến của đơn vị</Description>
        <StaffInfo><Email>ngoctram@nghean.vn</Email><Mobile>84912000001</Mobile><Staff>Nguyen thi ngoc tram</Staff><Department>Phong hanh chinh</Department></StaffInfo>
        <ResponseFor><DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</DocumentId><PromulgationDate>2015/09/30</PromulgationDate><Code>7816/VPCP-TTĐT</Code><OrganId>000.00.00.G22</OrganId></ResponseFor>
        <From><Website>www.nghean.vn</Website><Fax>0383 843049</Fax><Telephone>0383 840418</Telephone><Email>nghean@gov.vn</Email><OrganAdd>Số 03, đường Trường Thi, Thành phố Vinh, Tỉnh Nghệ An, Việt Nam</OrganAdd><OrganizationInCharge>UBND Tỉnh Nghệ An</OrganizationInCharge><OrganName>UBND Tỉnh Nghệ An</OrganName><OrganId>000.00.00.H41</OrganId></From>
        </MessageHeader></edXMLHeader></edXMLEnvelope></edXML>
        """
        #expect(try read(unprefixed).message == canonical)
        let otherPrefix = unprefixed.replacingOccurrences(of: "<edXML xmlns=", with: "<q:edXML xmlns:q=")
            .replacingOccurrences(of: "</edXML>", with: "</q:edXML>")
        // The root alone is prefixed differently; children stay in the default namespace? No:
        // they are then in no namespace, which must be refused.
        #expect(throws: EdXMLReadError.self) { try read(otherPrefix) }
        let crlf = unprefixed.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try read(crlf).message == canonical)
    }

    @Test func attachmentsAsRawBase64OrZip() throws {
        var spec = sampleSpec()
        let zip = Data([0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18))  // an empty archive
        spec.files = [
            .init(name: "a.pdf", contentType: "application/pdf", data: Data("%PDF-1.7 hello".utf8)),
            .init(name: "b.zip", contentType: "application/zip", data: zip),
        ]
        let message = EdXMLBuilder.document(spec)
        let read = try EdXMLReader.read(try EdXMLWriter.write(.document(message)))
        let attachments = try #require(read.message.document?.attachments)
        #expect(attachments.map(\.isZip) == [false, true])
        #expect(attachments[0].content == Data("%PDF-1.7 hello".utf8))
        #expect(try attachments[0].files().map(\.path) == ["a.pdf"])
        #expect(try attachments[1].files().isEmpty)
    }

    @Test func base64WithLineBreaksIsAccepted() throws {
        var spec = sampleSpec()
        let payload = Data((0..<3000).map { UInt8($0 % 251) })
        spec.files = [.init(name: "x.bin", contentType: "application/octet-stream", data: payload)]
        let text = String(decoding: try EdXMLWriter.write(.document(EdXMLBuilder.document(spec))), as: UTF8.self)
        let encoded = payload.base64EncodedString()
        let wrapped = payload.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let message = try read(text.replacingOccurrences(of: encoded, with: "\n" + wrapped + "\n"))
        #expect(message.message.document?.attachments.first?.content == payload)
    }
}

@Suite("edXML JSON")
struct JSONTests {
    @Test func messagesEncodeReadablyAndDecodeBack() throws {
        for name in sampleNames {
            let message = try EdXMLReader.read(try fixture(name)).message
            let json = try JSONEncoder().encode(message)
            let text = String(decoding: json, as: UTF8.self)
            #expect(text.hasPrefix("{\"document\":") || text.hasPrefix("{\"status\":"), "\(name)")
            #expect(!text.contains("\"_0\""))
            #expect(try JSONDecoder().decode(EdXMLMessage.self, from: json) == message, "\(name)")
        }
    }
}

@Suite("edXML fuzz findings")
struct FuzzFindingTests {
    /// libFuzzer: an attachment whose base64 does not decode was written back as an empty file.
    @Test func attachmentWithInvalidContentIsNotWrittenAsEmpty() throws {
        let parsed = try EdXMLReader.read(try fixture("fuzz/invalid-base64-roundtrip.edxml"))
        #expect(parsed.message.document?.attachments.first?.content == nil)
        #expect(parsed.validate().errors.contains { $0.code == "attachment_base64_invalid" })
        #expect(throws: XMLError.self) { try EdXMLWriter.write(parsed.message) }
    }
}

@Suite("edXML attachment base64")
struct Base64CollectorTests {
    func collect(_ pieces: [String]) -> Data? {
        var collector = Base64Collector()
        for piece in pieces {
            Data(piece.utf8).withUnsafeBytes { collector.feed($0) }
        }
        return collector.finish()
    }

    @Test(arguments: [
        (["QUJD"], "QUJD"),
        (["QUI="], "QUI="),
        (["QQ=="], "QQ=="),
        ([""], ""),
        (["QUJDREVG", "R0hJSktM"], "QUJDREVGR0hJSktM"),
        (["QUJD\r\nREVG\r\n"], "QUJDREVG"),
        (["  QU", "JD \t"], "QUJD"),
        (["QQ", "=", "\n="], "QQ=="),
        // Long runs go through the word-at-a-time check, with every letter class present.
        (["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"],
         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
    ])
    func acceptsBase64(pieces: [String], expected: String) {
        #expect(collect(pieces) == Data(expected.utf8))
    }

    @Test(arguments: [
        ["QUJ"], ["QQ=A"], ["Q==="], ["===="], ["QUJD", "=", "QUJD"],
        ["QUJD-_=="], ["QUJDREVGR0hJSkt\u{E9}TU5P"], ["QUJDREVGR0hJSktM&amp;"], ["QUJDREVGR0hJSkt.TU5P"],
        ["QUJDREVGR0hJSktM\0QUJD"], ["QUJDREVGR0hJSkt:TU5P"], ["QUJDREVGR0hJSkt@TU5P"], ["QUJDREVGR0hJSkt[TU5P"],
    ])
    func refusesWhatIsNotBase64(pieces: [String]) {
        #expect(collect(pieces) == nil)
    }

    @Test func everyByteOutsideTheAlphabetIsRefusedInLongRuns() {
        let letters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for byte in UInt8.min...UInt8.max where !letters.contains(byte) && ![0x20, 0x09, 0x0A, 0x0D, 0x3D].contains(byte) {
            var run = [UInt8]("QUJDREVGR0hJSktM".utf8)
            run[5] = byte
            var collector = Base64Collector()
            run.withUnsafeBytes { collector.feed($0) }
            #expect(collector.finish() == nil, "byte \(byte)")
        }
    }

    @Test func readAttachmentDecodesOnDemandAndWritesItsTextBack() throws {
        var spec = sampleSpec()
        let payload = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        spec.files = [.init(name: "x.bin", contentType: "application/octet-stream", data: payload)]
        let built = EdXMLBuilder.document(spec)
        let written = try EdXMLWriter.write(.document(built))
        let read = try #require(try EdXMLReader.read(written).message.document)
        let attachment = try #require(read.attachments.first)
        #expect(attachment.contentLength == payload.count)
        #expect(attachment.content == payload)
        // A read attachment equals the built one, whose bytes were never encoded.
        #expect(read.attachments == built.attachments)
        #expect(try EdXMLWriter.write(.document(read)) == written)
        var changed = attachment
        changed.content = Data("khác".utf8)
        #expect(changed != attachment)
        #expect(changed.contentLength == 5)
    }
}
