import Foundation
import Testing

@testable import EdXML

@Suite("edXML validation")
struct ValidationTests {
    func validate(_ message: DocumentMessage) -> EdXMLReport { EdXMLValidator.validate(.document(message)) }

    @Test func builtDocumentIsValid() {
        let report = validate(EdXMLBuilder.document(sampleSpec()))
        #expect(report.isValid, "\(report.errors)")
        #expect(report.warnings.map(\.code) == ["signature_missing"])
    }

    @Test func samplesValidateWithTheirKnownQuirksAsWarnings() throws {
        let report = try EdXMLReader.read(try fixture("edoc_new_0.edxml")).validate()
        #expect(report.isValid, "\(report.errors)")
        let warnings = Set(report.warnings.map(\.code))
        #expect(warnings.contains("document_id_date_differs"))   // id says 2015/09/30, issued 2019/04/11
        #expect(warnings.contains("signature_sha1"))
        #expect(warnings.contains("attachment_empty"))            // payload removed from the public copy
        #expect(warnings.contains("document_id_date_invalid"))    // Bussiness/DocumentId has 2014/02/30
        for name in sampleNames.dropFirst() {
            let status = try EdXMLReader.read(try fixture(name)).validate()
            #expect(status.isValid, "\(name): \(status.errors)")
        }
    }

    @Test func missingElementsNameTheirPathAndOnlyRoutingOnesAreErrors() {
        var message = EdXMLBuilder.document(sampleSpec())
        message.header.subject = nil
        message.header.code?.codeNotation = "  "
        message.header.to[1].organId = ""
        let report = validate(message)
        #expect(Set(report.errors.filter { $0.code == "required_missing" }.map(\.path)) == ["MessageHeader/To[2]/OrganId"])
        let missing = Set(report.warnings.filter { $0.code == "element_missing" }.map(\.path))
        #expect(missing == ["MessageHeader/Subject", "MessageHeader/Code/CodeNotation"])
        #expect((report.errors + report.warnings).allSatisfy { !$0.vi.isEmpty && !$0.en.isEmpty })
        var anonymous = EdXMLBuilder.document(sampleSpec())
        anonymous.header.from.organId = ""
        anonymous.header.documentId = nil
        let unroutable = Set(validate(anonymous).errors.map(\.path))
        #expect(unroutable.isSuperset(of: ["MessageHeader/From/OrganId", "MessageHeader/DocumentId"]))
        var none = EdXMLBuilder.document(sampleSpec())
        none.header.to = []
        #expect(codes(validate(none)).contains("required_missing"))
    }

    @Test func formatsAreChecked() {
        var message = EdXMLBuilder.document(sampleSpec())
        message.header.dueDate = "2026/02/30"
        message.header.otherInfo?.priority = "9"
        message.header.otherInfo?.pageAmount = "nhiều"
        message.header.otherInfo?.direction = "yes"
        message.header.to[0].organId = "bad code!"
        message.traces[0].timestamp = "2026-11-23T10:00:00Z"
        let report = validate(message)
        // A recipient's code is routed on: an error. The rest only describes the document.
        #expect(report.errors.map(\.path) == ["MessageHeader/To[1]/OrganId"])
        #expect(report.errors.first?.code == "agency_code_invalid")
        let byPath = Dictionary(report.warnings.map { ($0.path, $0.code) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["MessageHeader/DueDate"] == "date_invalid")
        #expect(byPath["MessageHeader/OtherInfo/Priority"] == "number_invalid")
        #expect(byPath["MessageHeader/OtherInfo/PageAmount"] == "number_invalid")
        #expect(byPath["MessageHeader/OtherInfo/Direction"] == "boolean_invalid")
        #expect(byPath["TraceHeaderList/TraceHeader[1]/Timestamp"] == "timestamp_invalid")
    }

    @Test func nonStandardAgencyCodeIsAWarningNotAnError() {
        var message = EdXMLBuilder.document(sampleSpec())
        message.header.to[0].organId = "vxp.saas.02"
        let report = validate(message)
        #expect(report.isValid)
        #expect(report.warnings.contains { $0.code == "agency_code_nonstandard" && $0.path == "MessageHeader/To[1]/OrganId" })
    }

    @Test func documentIdMustNameThisDocument() {
        var message = EdXMLBuilder.document(sampleSpec())
        message.header.documentId = "000.00.00.G01,2026/11/23,7816/VPCP-TTĐT"
        #expect(codes(validate(message)).contains("document_id_mismatch"))
        message.header.documentId = "000.00.00.G22,2026/11/23,9999/VPCP-TTĐT"
        #expect(validate(message).isValid, "the number only describes the document")
        #expect(validate(message).warnings.contains { $0.code == "document_id_code_differs" })
        message.header.documentId = "000.00.00.G22;2026/11/23;7816"
        #expect(codes(validate(message)).contains("document_id_malformed"))
    }

    @Test func revocationUpdateAndReplacementMustReferenceADocument() {
        let original = EdXMLBuilder.document(sampleSpec())
        let revocation = EdXMLBuilder.revocation(of: original, reason: "Sai sót nội dung")
        #expect(validate(revocation).isValid, "\(validate(revocation).errors)")
        #expect(revocation.business?.docType == .revocation)
        #expect(revocation.business?.documentId == original.header.documentId)
        var sdkStyle = revocation
        sdkStyle.business?.documentId = nil
        #expect(validate(sdkStyle).isValid, "the target falls back to MessageHeader/DocumentId")
        #expect(validate(sdkStyle).warnings.contains { $0.code == "target_document_id_missing" })
        var broken = revocation
        broken.business?.documentId = "không-phải-mã"
        #expect(validate(broken).errors.contains { $0.path == "TraceHeaderList/Bussiness/DocumentId" && $0.code == "document_id_malformed" })

        let update = EdXMLBuilder.update(of: original, addReceivers: [Organization(organId: "000.00.00.H29")],
                                         removeReceivers: ["000.00.00.H14"]) { $0.header.subject = "Đính chính" }
        #expect(validate(update).isValid, "\(validate(update).errors)")
        #expect(update.header.to.map(\.organId).contains("000.00.00.H29"))
        #expect(update.business?.businessDocumentInfo?.receivers?.map(\.receiverType) == ["1", "0"])

        var badUpdate = update
        badUpdate.business?.businessDocumentInfo?.receivers?[0].receiverType = "7"
        badUpdate.business?.businessDocumentInfo?.receivers?.append(Receiver(organId: "000.00.00.H14", receiverType: "1"))
        let updateCodes = codes(validate(badUpdate))
        #expect(updateCodes.contains("receiver_type_invalid"))
        #expect(validate(badUpdate).warnings.contains { $0.code == "recipient_duplicate" })
        var emptyUpdate = update
        emptyUpdate.business?.businessDocumentInfo?.receivers = []
        #expect(validate(emptyUpdate).isValid)
        #expect(validate(emptyUpdate).warnings.contains { $0.code == "element_missing" })

        var spec = sampleSpec()
        spec.codeNumber = "7900"
        let replacement = EdXMLBuilder.replacement(spec, replacing: [original.header.documentId!])
        #expect(validate(replacement).isValid, "\(validate(replacement).errors)")
        var badReplacement = replacement
        badReplacement.business?.replacementInfoList = []
        #expect(codes(validate(badReplacement)).contains("required_missing"))
    }

    @Test func manifestAndAttachmentsMustMatch() {
        var message = EdXMLBuilder.document(sampleSpec())
        message.attachments.append(Attachment(contentId: "cid:99", attachmentName: "x", contentType: "text/plain",
                                              content: Data("x".utf8)))
        message.manifest.append(ManifestReference(contentId: "cid:77", contentType: "text/plain"))
        let report = validate(message)
        #expect(report.isValid, "the hub forwards the bytes whatever the manifest says")
        #expect(report.warnings.contains { $0.code == "attachment_orphaned" && $0.path == "AttachmentEncoded/Attachment[2]/ContentId" })
        #expect(report.warnings.contains { $0.code == "attachment_missing" && $0.path == "edXMLBody/edXMLManifest/Reference[2]/ContentId" })
    }

    @Test func statusCodesAreCheckedForTheSenderSide() throws {
        let original = EdXMLBuilder.document(sampleSpec())
        let nghean = Organization(organId: "000.00.00.H41")
        for code in StatusCode.allCases where code.sender == .receiver {
            let status = EdXMLBuilder.status(code, for: original, from: nghean)
            let report = EdXMLValidator.validate(.status(status))
            #expect(report.isValid, "\(code): \(report.errors)")
            #expect(status.description == code.officialDescription)
            // The issuing agency cannot report a receiver's status about its own document.
            let wrongSide = EdXMLBuilder.status(code, for: original, from: original.header.from)
            #expect(codes(EdXMLValidator.validate(.status(wrongSide))).contains("status_wrong_side"), "\(code)")
        }
        let request = EdXMLBuilder.status(.revokeRequest, for: original, from: original.header.from, receiver: "000.00.00.H41")
        #expect(EdXMLValidator.validate(.status(request)).isValid)
        #expect(request.responseFor.organId == "000.00.00.H41")
        let notSender = EdXMLBuilder.status(.revokeRequest, for: original, from: nghean)
        #expect(codes(EdXMLValidator.validate(.status(notSender))).contains("status_wrong_side"))
    }

    @Test func unknownStatusCodeIsRefused() throws {
        var status = EdXMLBuilder.status(.accepted, for: EdXMLBuilder.document(sampleSpec()),
                                         from: Organization(organId: "000.00.00.H41"))
        for code in ["14", "07", "99", "3", "abc"] {
            status.statusCode = code
            let report = try EdXMLReader.read(try EdXMLWriter.write(.status(status))).validate()
            #expect(codes(report).contains("status_code_unknown"), "\(code)")
        }
    }

    @Test func issuesEncodeAsJSONWithPathCodeAndBothLanguages() throws {
        var message = EdXMLBuilder.document(sampleSpec())
        message.header.subject = nil
        let json = String(decoding: try JSONEncoder().encode(validate(message)), as: UTF8.self)
        #expect(json.contains("\"path\":\"MessageHeader\\/Subject\""))
        #expect(json.contains("\"code\":\"element_missing\""))
        #expect(json.contains("\"vi\":"))
        #expect(json.contains("\"en\":"))
    }
}

@Suite("edXML bad input")
struct BadInputTests {
    func refused(_ text: String, _ code: String, limits: EdXMLLimits = .default) {
        do {
            _ = try EdXMLReader.read(Data(text.utf8), limits: limits)
            Issue.record("accepted: expected \(code)")
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(!error.vi.isEmpty && !error.en.isEmpty)
        }
    }

    @Test func malformedXML() {
        refused("<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXMLEnvelope>", "xml_malformed")
        refused("not xml at all", "xml_malformed")
        refused("", "xml_empty")
    }

    @Test func wrongNamespace() {
        refused("<edXML xmlns=\"urn:other\"><edXMLEnvelope/></edXML>", "wrong_namespace")
        refused("<edXML><edXMLEnvelope/></edXML>", "wrong_namespace")
    }

    @Test func externalEntityIsRefusedAndNothingRead() {
        refused("""
        <?xml version="1.0"?>
        <!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>
        <edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader><Subject>&x;</Subject></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>
        """, "xml_doctype_forbidden")
    }

    @Test func billionLaughsIsRefused() {
        var bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
        for level in 1...9 {
            bomb += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10) + "\">\n"
        }
        bomb += "]>\n<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">&lol9;</edXML>"
        refused(bomb, "xml_doctype_forbidden")
    }

    @Test func deepNesting() {
        let depth = 200
        let text = "<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">" + String(repeating: "<a>", count: depth)
            + String(repeating: "</a>", count: depth) + "</edXML>"
        refused(text, "too_deep")
    }

    @Test func overTheSizeLimit() throws {
        let text = String(decoding: try fixture("status_inbox_01.edxml"), as: UTF8.self)
        var limits = EdXMLLimits.default
        limits.xml.maxDocumentBytes = text.utf8.count - 1
        refused(text, "too_large", limits: limits)
    }

    @Test func contentIdWithoutAttachment() throws {
        var message = EdXMLBuilder.document(sampleSpec())
        message.attachments = []
        let report = try EdXMLReader.read(try EdXMLWriter.write(.document(message))).validate()
        #expect(report.warnings.map(\.code).contains("attachment_missing"))
    }

    @Test func invalidBase64() throws {
        let text = String(decoding: try EdXMLWriter.write(.document(EdXMLBuilder.document(sampleSpec()))), as: UTF8.self)
        let encoded = Data("%PDF-1.4 Tiếng Việt".utf8).base64EncodedString()
        for bad in ["@@@@not*base64", "QUJD=QUJD", "QUJ"] {
            let parsed = try read(text.replacingOccurrences(of: encoded, with: bad))
            let report = parsed.validate()
            #expect(report.errors.contains {
                $0.code == "attachment_base64_invalid" && $0.path == "AttachmentEncoded/Attachment[1]/ContentTransferEncoded"
            }, "\(bad)")
            #expect(parsed.message.document?.attachments.first?.content == nil)
        }
    }

    @Test func zipBombExpansionIsBounded() throws {
        // A real deflate archive of 2 MB of zeros built with ZIPFoundation: tiny on the wire.
        let bomb = try ZipFixture.zeros(megabytes: 2)
        #expect(bomb.count < 20_000)
        let attachment = Attachment(contentId: "cid:1", attachmentName: "bomb.zip", contentType: "application/zip", content: bomb)
        #expect(attachment.isZip)
        do {
            _ = try attachment.files(limits: ZipLimits(maxTotalBytes: 1 << 20, maxEntries: 10, maxRatio: 1000))
            Issue.record("the bomb expanded")
        } catch {
            #expect(error.code == .tooLarge)
        }
        // By ratio too: 2 MB from a few KB is far beyond 100×.
        do {
            _ = try attachment.files()
            Issue.record("the bomb expanded")
        } catch {
            #expect(error.code == .tooLarge)
        }
        let unreadable = Attachment(contentId: "cid:2", content: Data([0x50, 0x4B, 0x03, 0x04, 1, 2, 3]))
        #expect(throws: ZipError.self) { try unreadable.files() }
    }

    @Test func tooManyAttachments() throws {
        var spec = sampleSpec()
        spec.files = (0..<6).map { .init(name: "f\($0)", contentType: "text/plain", data: Data("x".utf8)) }
        let bytes = try EdXMLWriter.write(.document(EdXMLBuilder.document(spec)))
        refused(String(decoding: bytes, as: UTF8.self), "too_many_attachments", limits: EdXMLLimits(maxAttachments: 5))
    }
}

/// Real VPCP messages are looser than the notes: what the national hub routes, the codec reads
/// with warnings (issue 14, item 8). Fixtures: Tests/Fixtures/edxml/SOURCES.md.
@Suite("edXML conformance: real SDK messages")
struct ConformanceTests {
    @Test func sdkRevocationNamesItsTargetOnlyInTheMessageHeader() throws {
        let parsed = try EdXMLReader.read(try fixture("edoc_revocation_1.edxml"))
        let document = try #require(parsed.message.document)
        #expect(document.business?.docType == .revocation)
        #expect(document.business?.documentId == nil, "the SDK sends no Bussiness/DocumentId")
        let report = parsed.validate()
        #expect(report.isValid, "\(report.errors)")
        #expect(report.warnings.contains { $0.code == "target_document_id_missing" && $0.path == "TraceHeaderList/Bussiness/DocumentId" })
        let routing = try RoutingInfo(parsed.message)
        #expect(routing.businessType == .revocation)
        #expect(routing.targetDocumentId == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
        #expect(routing.recipients == ["000.00.00.H41", "000.00.00.H14", "000.00.00.G17"])
    }

    @Test func aThirtiethOfFebruaryInTheDocumentIdIsAnOpaqueKeyWithAWarning() throws {
        let parsed = try EdXMLReader.read(try fixture("edoc_new_30feb.edxml"))
        let report = parsed.validate()
        #expect(report.isValid, "\(report.errors)")
        let dated = report.warnings.filter { $0.code == "document_id_date_invalid" }.map(\.path)
        #expect(dated.contains("MessageHeader/DocumentId"))
        let routing = try RoutingInfo(parsed.message)
        #expect(routing.documentId == "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT", "kept as sent, not normalised")
        // A status answering it reads the same way.
        let status = EdXMLBuilder.status(.arrived, for: try #require(parsed.message.document),
                                         from: Organization(organId: "000.00.00.H41"))
        let statusReport = try EdXMLReader.read(try EdXMLWriter.write(.status(status))).validate()
        #expect(statusReport.isValid, "\(statusReport.errors)")
        #expect(statusReport.warnings.contains { $0.code == "document_id_date_invalid" && $0.path == "MessageHeader/ResponseFor/DocumentId" })
    }

    @Test func whatCannotBeRoutedIsStillAnError() throws {
        let text = String(decoding: try fixture("edoc_new_30feb.edxml"), as: UTF8.self)
        // No recipient at all.
        var noRecipient = text
        while let start = noRecipient.range(of: "<edXML:To>"), let end = noRecipient.range(of: "</edXML:To>") {
            noRecipient.removeSubrange(start.lowerBound..<end.upperBound)
        }
        let parsed = try read(noRecipient)
        #expect(parsed.validate().errors.contains { $0.code == "required_missing" && $0.path == "MessageHeader/To" })
        #expect(throws: RoutingError.self) { try RoutingInfo(parsed.message) }
        // A document id that names another agency would take that agency's statuses.
        let squatting = text.replacingOccurrences(of: "<edXML:DocumentId>000.00.00.G22,2014/02/30",
                                                  with: "<edXML:DocumentId>000.00.00.H41,2014/02/30")
        #expect(try read(squatting).validate().errors.contains { $0.code == "document_id_mismatch" })
    }

    @Test func everyCodeTheValidatorReportsIsListed() throws {
        var message = EdXMLBuilder.document(sampleSpec())
        message.header.subject = nil
        message.header.dueDate = "2026/02/30"
        message.header.to.append(message.header.to[0])
        let report = EdXMLValidator.validate(.document(message))
        for issue in report.warnings { #expect(EdXMLValidator.warningCodes.contains(issue.code), "\(issue.code)") }
        for issue in report.errors { #expect(EdXMLValidator.errorCodes.contains(issue.code), "\(issue.code)") }
        #expect(Set(EdXMLValidator.warningCodes).count == EdXMLValidator.warningCodes.count)
    }
}
