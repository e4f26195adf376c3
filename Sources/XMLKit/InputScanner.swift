#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level checks run on untrusted input before libxml2 sees any of it.
///
/// libxml2 2.9 has no DTD switch for a reader that would make DOCTYPEs harmless in every case, and it
/// checks duplicate attributes with a quadratic loop over one start tag, so both are refused here:
/// the DOCTYPE by scanning the prolog, the attribute flood (and depth and element count) by a
/// markup-boundary scan of the whole document. The scan only needs to agree with libxml2 on
/// well-formed prefixes: libxml2 stops at its first fatal error, so nothing past a point where the two
/// could disagree is ever parsed.
struct InputScanner {
    private static let piEnd = Array("?>".utf8)
    private static let declarationStart = Array("<?XML".utf8)
    private static let commentStart = Array("<!--".utf8)
    private static let commentEnd = Array("-->".utf8)
    private static let doctypeStart = Array("<!DOCTYPE".utf8)
    private static let cdataStart = Array("<![CDATA[".utf8)
    private static let cdataEnd = Array("]]>".utf8)

    private let base: UnsafeRawPointer
    private let count: Int
    private let limits: XMLLimits

    private init(base: UnsafeRawPointer, count: Int, limits: XMLLimits) {
        self.base = base
        self.count = count
        self.limits = limits
    }

    /// Throws the first reason to refuse `bytes`, in this order: size, encoding sniffing, prolog
    /// (XML declaration encoding, DOCTYPE, no root), UTF-8 validity, structural limits.
    static func validate(_ bytes: UnsafeRawBufferPointer, limits: XMLLimits) throws(XMLError) {
        let maxBytes = min(limits.maxDocumentBytes, Int(Int32.max))
        guard bytes.count <= maxBytes else {
            throw XMLError(.tooLarge, "document is \(bytes.count) bytes, limit is \(maxBytes)")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw XMLError(.empty, "empty input")
        }
        let scanner = InputScanner(base: base, count: bytes.count, limits: limits)
        let start = try scanner.sniffEncoding()
        let rootStart = try scanner.scanProlog(from: start)
        try scanner.validateUTF8(from: start)
        try scanner.scanStructure(from: rootStart)
    }

    // MARK: - Byte access

    private func byte(_ offset: Int) -> UInt8 {
        base.load(fromByteOffset: offset, as: UInt8.self)
    }

    private func find(_ value: UInt8, from offset: Int) -> Int? {
        guard offset < count, let hit = memchr(base + offset, Int32(value), count - offset) else {
            return nil
        }
        return UnsafeRawPointer(hit) - base
    }

    /// Offset of `terminator` at or after `offset`. Every terminator searched for ends in `>`, which is
    /// rare in text, so memchr on `>` does the scanning.
    private func find(_ terminator: [UInt8], from offset: Int) -> Int? {
        let tail = terminator.count - 1
        var cursor = offset + tail
        while let gt = find(UInt8(ascii: ">"), from: cursor) {
            let candidate = gt - tail
            if matches(terminator, at: candidate) {
                return candidate
            }
            cursor = gt + 1
        }
        return nil
    }

    private func matches(_ literal: [UInt8], at offset: Int, ignoringCase: Bool = false) -> Bool {
        guard offset >= 0, offset + literal.count <= count else { return false }
        for (index, expected) in literal.enumerated() {
            var actual = byte(offset + index)
            if ignoringCase, actual >= UInt8(ascii: "a"), actual <= UInt8(ascii: "z") {
                actual -= 32
            }
            if actual != expected {
                return false
            }
        }
        return true
    }

    private static func isSpace(_ value: UInt8) -> Bool {
        value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D
    }

    /// 1-based line of `offset`, counting LF the way libxml2 does.
    private func line(at offset: Int) -> Int {
        var lines = 1
        var cursor = 0
        let end = min(offset, count)
        while cursor < end, let newline = find(0x0A, from: cursor), newline < end {
            lines += 1
            cursor = newline + 1
        }
        return lines
    }

    // MARK: - Encoding

    /// Returns the offset after a UTF-8 byte order mark, refusing byte patterns of other encodings that
    /// libxml2 would otherwise detect and switch to.
    private func sniffEncoding() throws(XMLError) -> Int {
        if matches([0xEF, 0xBB, 0xBF], at: 0) {
            return 3
        }
        if matches([0xFE, 0xFF], at: 0) || matches([0xFF, 0xFE], at: 0) {
            throw XMLError(.encodingUnsupported, "UTF-16/UTF-32 byte order mark: only UTF-8 is accepted", line: 1)
        }
        if matches([0x4C, 0x6F, 0xA7, 0x94], at: 0) {
            throw XMLError(.encodingUnsupported, "EBCDIC input: only UTF-8 is accepted", line: 1)
        }
        for offset in 0..<min(4, count) where byte(offset) == 0 {
            throw XMLError(.encodingUnsupported, "NUL byte at the start: UTF-16/UTF-32 input is not accepted", line: 1)
        }
        return 0
    }

    /// Checks the whole input is UTF-8 without NUL bytes (which XML forbids and C strings cannot carry).
    private func validateUTF8(from start: Int) throws(XMLError) {
        var index = start
        while index < count {
            if index + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                // Zero exactly when all eight bytes are in 0x01...0x7F.
                if (word &- 0x0101_0101_0101_0101 | word) & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            let lead = byte(index)
            if lead == 0 {
                throw XMLError(.malformed, "NUL byte (U+0000 is not an XML character)", line: line(at: index))
            }
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF:
                length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF:
                length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3:
                length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default:
                throw invalidUTF8(at: index)
            }
            guard index + length <= count else {
                throw invalidUTF8(at: index)
            }
            let second = byte(index + 1)
            guard second >= low, second <= high else {
                throw invalidUTF8(at: index)
            }
            for offset in 2..<length where byte(index + offset) & 0xC0 != 0x80 {
                throw invalidUTF8(at: index)
            }
            index += length
        }
    }

    private func invalidUTF8(at offset: Int) -> XMLError {
        XMLError(
            .encodingUnsupported,
            "invalid UTF-8 byte sequence at byte offset \(offset): only UTF-8 is accepted",
            line: line(at: offset)
        )
    }

    // MARK: - Prolog

    /// Walks the prolog (whitespace, XML declaration, comments, processing instructions) and returns the
    /// offset of the root element's `<`.
    private func scanProlog(from start: Int) throws(XMLError) -> Int {
        var index = start
        while true {
            while index < count, Self.isSpace(byte(index)) {
                index += 1
            }
            guard index < count else {
                throw XMLError(.empty, "no root element", line: line(at: index))
            }
            guard byte(index) == UInt8(ascii: "<"), index + 1 < count else {
                throw XMLError(.malformed, "Start tag expected, '<' not found", line: line(at: index))
            }
            switch byte(index + 1) {
            case UInt8(ascii: "?"):
                guard let end = find(Self.piEnd, from: index + 2) else {
                    throw XMLError(.malformed, "processing instruction not terminated", line: line(at: index))
                }
                // Checked wherever it appears: libxml2 only honours it at the start, but refusing a
                // foreign encoding anywhere costs nothing.
                if matches(Self.declarationStart, at: index, ignoringCase: true), Self.isSpace(byte(index + 5)) {
                    try checkDeclaration(from: index + 5, to: end)
                }
                index = end + 2
            case UInt8(ascii: "!"):
                if matches(Self.commentStart, at: index) {
                    guard let end = find(Self.commentEnd, from: index + 4) else {
                        throw XMLError(.malformed, "Comment not terminated", line: line(at: index))
                    }
                    index = end + 3
                } else if matches(Self.doctypeStart, at: index, ignoringCase: true) {
                    throw XMLError(
                        .doctypeForbidden,
                        "DOCTYPE declarations are not accepted (no DTDs, no entities)",
                        line: line(at: index)
                    )
                } else {
                    throw XMLError(.malformed, "markup declaration outside a DOCTYPE", line: line(at: index))
                }
            default:
                return index
            }
        }
    }

    /// Parses the pseudo-attributes of an XML declaration body (`[start, end)`, before `?>`) and refuses
    /// any encoding but UTF-8. A body that cannot be parsed is refused rather than left to libxml2,
    /// which might still find an encoding in it.
    private func checkDeclaration(from start: Int, to end: Int) throws(XMLError) {
        var index = start
        let malformed = XMLError(.malformed, "malformed XML declaration", line: line(at: start))
        while true {
            while index < end, Self.isSpace(byte(index)) {
                index += 1
            }
            if index >= end {
                return
            }
            let nameStart = index
            while index < end, (byte(index) | 0x20) >= UInt8(ascii: "a"), (byte(index) | 0x20) <= UInt8(ascii: "z") {
                index += 1
            }
            let name = String(decoding: UnsafeRawBufferPointer(start: base + nameStart, count: index - nameStart), as: UTF8.self)
            while index < end, Self.isSpace(byte(index)) {
                index += 1
            }
            guard !name.isEmpty, index < end, byte(index) == UInt8(ascii: "=") else { throw malformed }
            index += 1
            while index < end, Self.isSpace(byte(index)) {
                index += 1
            }
            guard index < end, byte(index) == UInt8(ascii: "\"") || byte(index) == UInt8(ascii: "'") else { throw malformed }
            let quote = byte(index)
            let valueStart = index + 1
            guard let valueEnd = find(quote, from: valueStart), valueEnd < end else { throw malformed }
            if name == "encoding" {
                let value = String(decoding: UnsafeRawBufferPointer(start: base + valueStart, count: valueEnd - valueStart), as: UTF8.self)
                guard value.lowercased() == "utf-8" else {
                    throw XMLError(
                        .encodingUnsupported,
                        "declared encoding \"\(value)\": only UTF-8 is accepted",
                        line: line(at: valueStart)
                    )
                }
            }
            index = valueEnd + 1
        }
    }

    // MARK: - Structure

    /// Counts elements, nesting and quoted attribute values per start tag from the root onwards.
    /// Stops silently where libxml2 would stop with a fatal error (unterminated construct, `<` or `<!`
    /// where it cannot be), leaving the error message to libxml2.
    private func scanStructure(from rootStart: Int) throws(XMLError) {
        let lt = UInt8(ascii: "<")
        let gt = UInt8(ascii: ">")
        var depth = 0
        var elements = 0
        var index = rootStart
        while let open = find(lt, from: index) {
            index = open
            guard index + 1 < count else { return }
            switch byte(index + 1) {
            case UInt8(ascii: "!"):
                if matches(Self.commentStart, at: index) {
                    guard let end = find(Self.commentEnd, from: index + 4) else { return }
                    index = end + 3
                } else if matches(Self.cdataStart, at: index) {
                    guard let end = find(Self.cdataEnd, from: index + 9) else { return }
                    index = end + 3
                } else {
                    return
                }
            case UInt8(ascii: "?"):
                guard let end = find(Self.piEnd, from: index + 2) else { return }
                index = end + 2
            case UInt8(ascii: "/"):
                depth = max(0, depth - 1)
                guard let end = find(gt, from: index + 2) else { return }
                index = end + 1
            default:
                elements += 1
                if elements > limits.maxElements {
                    throw XMLError(.tooManyElements, "more than \(limits.maxElements) elements", line: line(at: index))
                }
                if depth + 1 > limits.maxDepth {
                    throw XMLError(.tooDeep, "element nesting deeper than \(limits.maxDepth)", line: line(at: index))
                }
                var cursor = index + 1
                var attributes = 0
                var isEmpty = false
                tag: while cursor < count {
                    let value = byte(cursor)
                    switch value {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        attributes += 1
                        if attributes > limits.maxAttributesPerElement {
                            throw XMLError(
                                .tooManyAttributes,
                                "more than \(limits.maxAttributesPerElement) attributes on one element",
                                line: line(at: index)
                            )
                        }
                        guard let close = find(value, from: cursor + 1) else { return }
                        cursor = close + 1
                    case gt:
                        isEmpty = byte(cursor - 1) == UInt8(ascii: "/")
                        break tag
                    case lt:
                        return
                    default:
                        cursor += 1
                    }
                }
                guard cursor < count else { return }
                if !isEmpty {
                    depth += 1
                }
                index = cursor + 1
            }
        }
    }
}
