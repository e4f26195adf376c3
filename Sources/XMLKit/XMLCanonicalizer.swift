internal import CLibXML2

/// Canonical XML for signatures.
public enum XMLCanonicalizer {
    /// Exclusive XML Canonicalization 1.0 without comments (libxml2's `xmlC14NDocDumpMemory` with
    /// `XML_C14N_EXCLUSIVE_1_0`) of the whole document in `bytes`.
    ///
    /// The input is first read in full by `XMLPushParser`, so every refusal and limit of the parser
    /// applies (DOCTYPE, encoding, size, depth, ...) and namespace errors are fatal. It is then parsed into
    /// a libxml2 tree with XML_PARSE_NONET | XML_PARSE_HUGE: no entity substitution, no DTD, no blank
    /// removal; HUGE only so that documents the parser accepted (a text node over 10 MB) are not refused
    /// here by libxml2's built-in caps. Throws `.malformed` with a message starting "exclusive C14N" when
    /// libxml2's C14N itself fails after the parse: a relative namespace URI, which C14N forbids (or
    /// memory exhaustion).
    public static func exclusiveC14N(_ bytes: [UInt8], limits: XMLLimits = .default) throws(XMLError) -> [UInt8] {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(XMLError) -> [UInt8] in try exclusiveC14N(buffer: buffer, limits: limits) }
        }
        return try result.get()
    }

    private static func exclusiveC14N(buffer: UnsafeRawBufferPointer, limits: XMLLimits) throws(XMLError) -> [UInt8] {
        try XMLPushParser.parse(buffer, limits: limits) { _ in }

        guard let base = buffer.baseAddress else {
            throw XMLError(.empty, "empty input")
        }
        guard let context = xmlNewParserCtxt() else {
            throw XMLError(.malformed, "exclusive C14N: libxml2 could not allocate a parser")
        }
        defer { xmlFreeParserCtxt(context) }
        let document = xmlCtxtReadMemory(
            context,
            base.assumingMemoryBound(to: CChar.self),
            Int32(buffer.count),
            nil,
            nil,
            LibXML.parseOptions
        )
        guard let document else {
            // The parser accepted these bytes, so this is libxml2 failing (memory), not the input.
            throw LibXML.error(from: context.pointee.lastError)
        }
        defer { xmlFreeDoc(document) }
        guard context.pointee.wellFormed == 1, context.pointee.nsWellFormed == 1 else {
            throw LibXML.error(from: context.pointee.lastError)
        }

        var output: UnsafeMutablePointer<xmlChar>?
        let length = xmlC14NDocDumpMemory(
            document,
            nil,
            Int32(bitPattern: XML_C14N_EXCLUSIVE_1_0.rawValue),
            nil,
            0,
            &output
        )
        defer { xmlkit_free(output) }
        guard length >= 0, let output else {
            throw XMLError(
                .malformed,
                "exclusive C14N failed in libxml2 (relative namespace URIs cannot be canonicalised)"
            )
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}
