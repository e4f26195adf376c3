import CPKCS11
import PKI

/// One attribute of a search template: its type and the value bytes as the module expects them.
struct TemplateAttribute {
    let type: CK_ATTRIBUTE_TYPE
    let value: [UInt8]

    static func ulong(_ type: CK_ATTRIBUTE_TYPE, _ value: CK_ULONG) -> TemplateAttribute {
        TemplateAttribute(type: type, value: withUnsafeBytes(of: value) { Array($0) })
    }

    static func bytes(_ type: CK_ATTRIBUTE_TYPE, _ value: [UInt8]) -> TemplateAttribute {
        TemplateAttribute(type: type, value: value)
    }
}

/// A failed PKCS#11 call: which function and what it returned.
struct CallFailure: Error {
    let function: String
    let rv: CK_RV

    var name: String { returnValueName(rv) }

    /// The session or the token behind it has gone (card pulled, reader reset, module restarted
    /// the slot): opening a new session may help, unlike any other failure.
    var sessionLost: Bool {
        switch rv {
        case CK_RV(CKR_SESSION_HANDLE_INVALID), CK_RV(CKR_SESSION_CLOSED), CK_RV(CKR_DEVICE_REMOVED),
            CK_RV(CKR_TOKEN_NOT_PRESENT), CK_RV(CKR_USER_NOT_LOGGED_IN), CK_RV(CKR_KEY_HANDLE_INVALID),
            CK_RV(CKR_OBJECT_HANDLE_INVALID):
            true
        default:
            false
        }
    }
}

/// Thin, non-throwing wrappers over the calls on one session. Callers serialise access (a
/// PKCS#11 session is not safe for concurrent use).
struct TokenSession {
    let module: LoadedModule
    let handle: CK_SESSION_HANDLE

    private var functions: CK_FUNCTION_LIST { module.functions.pointee }

    static func open(module: LoadedModule, slot: CK_SLOT_ID) -> Result<TokenSession, CallFailure> {
        guard let openSession = module.functions.pointee.C_OpenSession else {
            return .failure(CallFailure(function: "C_OpenSession", rv: CK_RV(CKR_FUNCTION_NOT_SUPPORTED)))
        }
        var handle: CK_SESSION_HANDLE = 0
        // A read-only session is enough to log in as the user and sign.
        let rv = openSession(slot, CK_FLAGS(CKF_SERIAL_SESSION), nil, nil, &handle)
        guard rv == CKR_OK else { return .failure(CallFailure(function: "C_OpenSession", rv: rv)) }
        return .success(TokenSession(module: module, handle: handle))
    }

    func close() {
        _ = functions.C_CloseSession?(handle)
    }

    /// One `C_Login`; the caller decides what a refusal means and never calls again after one.
    func login(userType: CK_USER_TYPE, pin: PINSecret) -> CK_RV {
        guard let login = functions.C_Login else { return CK_RV(CKR_FUNCTION_NOT_SUPPORTED) }
        module.noteLoginCall()
        var bytes = pin.bytes
        defer {
            for index in bytes.indices {
                bytes[index] = 0
            }
        }
        return bytes.withUnsafeMutableBufferPointer { login(handle, userType, $0.baseAddress, CK_ULONG($0.count)) }
    }

    /// The handles of the objects matching `template`, at most `limit` of them.
    func findObjects(_ template: [TemplateAttribute], limit: Int = 64) -> Result<[CK_OBJECT_HANDLE], CallFailure> {
        guard let initFind = functions.C_FindObjectsInit, let find = functions.C_FindObjects,
            let finalFind = functions.C_FindObjectsFinal
        else {
            return .failure(CallFailure(function: "C_FindObjectsInit", rv: CK_RV(CKR_FUNCTION_NOT_SUPPORTED)))
        }
        let initRV = withTemplate(template) { initFind(handle, $0, $1) }
        guard initRV == CKR_OK else { return .failure(CallFailure(function: "C_FindObjectsInit", rv: initRV)) }
        defer { _ = finalFind(handle) }
        var found = [CK_OBJECT_HANDLE](repeating: 0, count: limit)
        var count: CK_ULONG = 0
        let rv = found.withUnsafeMutableBufferPointer { find(handle, $0.baseAddress, CK_ULONG($0.count), &count) }
        guard rv == CKR_OK else { return .failure(CallFailure(function: "C_FindObjects", rv: rv)) }
        return .success(Array(found.prefix(min(Int(count), limit))))
    }

    /// The value of one attribute; `nil` when the object has no such attribute or keeps it
    /// secret (sensitive values are expected for private keys).
    func attribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) -> Result<[UInt8]?, CallFailure> {
        guard let getAttributeValue = functions.C_GetAttributeValue else {
            return .failure(CallFailure(function: "C_GetAttributeValue", rv: CK_RV(CKR_FUNCTION_NOT_SUPPORTED)))
        }
        var query = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        let sizeRV = getAttributeValue(handle, object, &query, 1)
        switch sizeRV {
        case CK_RV(CKR_OK):
            break
        case CK_RV(CKR_ATTRIBUTE_SENSITIVE), CK_RV(CKR_ATTRIBUTE_TYPE_INVALID):
            return .success(nil)
        default:
            return .failure(CallFailure(function: "C_GetAttributeValue", rv: sizeRV))
        }
        // CK_UNAVAILABLE_INFORMATION is a cast expression in the header; it is all ones.
        guard query.ulValueLen != CK_ULONG.max else { return .success(nil) }
        // A certificate is a few kilobytes; anything near this bound is not one we can use.
        guard query.ulValueLen <= 1 << 20 else {
            return .failure(CallFailure(function: "C_GetAttributeValue", rv: CK_RV(CKR_DATA_LEN_RANGE)))
        }
        var value = [UInt8](repeating: 0, count: Int(query.ulValueLen))
        let rv = value.withUnsafeMutableBytes { buffer in
            var attribute = CK_ATTRIBUTE(type: type, pValue: buffer.baseAddress, ulValueLen: CK_ULONG(buffer.count))
            let rv = getAttributeValue(handle, object, &attribute, 1)
            return rv == CKR_OK ? (attribute.ulValueLen <= CK_ULONG(buffer.count) ? rv : CK_RV(CKR_GENERAL_ERROR)) : rv
        }
        guard rv == CKR_OK else { return .failure(CallFailure(function: "C_GetAttributeValue", rv: rv)) }
        return .success(value)
    }

    /// `C_SignInit` then `C_Sign`, with a context-specific login in between for keys that demand
    /// one per signature (`CKA_ALWAYS_AUTHENTICATE`).
    func sign(
        _ data: [UInt8],
        mechanism type: CK_MECHANISM_TYPE,
        key: CK_OBJECT_HANDLE,
        contextPIN: PINSecret?
    ) -> Result<[UInt8], SignFailure> {
        guard let signInit = functions.C_SignInit, let sign = functions.C_Sign else {
            return .failure(.call(CallFailure(function: "C_SignInit", rv: CK_RV(CKR_FUNCTION_NOT_SUPPORTED))))
        }
        var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
        let initRV = signInit(handle, &mechanism, key)
        guard initRV == CKR_OK else { return .failure(.call(CallFailure(function: "C_SignInit", rv: initRV))) }
        if let contextPIN {
            let loginRV = login(userType: CK_USER_TYPE(CKU_CONTEXT_SPECIFIC), pin: contextPIN)
            guard loginRV == CKR_OK else { return .failure(.login(loginRV)) }
        }
        var input = data
        // Large enough for RSA 8192; a module asking for more says so and keeps the operation.
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = CK_ULONG(signature.count)
        var rv = CK_RV(CKR_OK)
        for _ in 0..<2 {
            length = CK_ULONG(signature.count)
            rv = input.withUnsafeMutableBufferPointer { inputBuffer in
                signature.withUnsafeMutableBufferPointer { outputBuffer in
                    sign(handle, inputBuffer.baseAddress, CK_ULONG(inputBuffer.count), outputBuffer.baseAddress, &length)
                }
            }
            guard rv == CK_RV(CKR_BUFFER_TOO_SMALL), length > CK_ULONG(signature.count), length <= 1 << 16 else { break }
            signature = [UInt8](repeating: 0, count: Int(length))
        }
        guard rv == CKR_OK else { return .failure(.call(CallFailure(function: "C_Sign", rv: rv))) }
        guard length <= CK_ULONG(signature.count) else {
            return .failure(.call(CallFailure(function: "C_Sign", rv: CK_RV(CKR_GENERAL_ERROR))))
        }
        return .success(Array(signature.prefix(Int(length))))
    }
}

/// Why one signing attempt failed.
enum SignFailure: Error {
    /// A PKCS#11 call failed.
    case call(CallFailure)
    /// The context-specific login refused the stored PIN.
    case login(CK_RV)
}

/// Calls `body` with a C template whose value buffers live for the duration of the call.
private func withTemplate<R>(
    _ attributes: [TemplateAttribute],
    _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) -> R
) -> R {
    let buffers: [UnsafeMutableRawPointer?] = attributes.map { attribute in
        attribute.value.withUnsafeBytes { source -> UnsafeMutableRawPointer? in
            guard let base = source.baseAddress, source.count > 0 else { return nil }
            let copy = UnsafeMutableRawPointer.allocate(byteCount: source.count, alignment: 16)
            copy.copyMemory(from: base, byteCount: source.count)
            return copy
        }
    }
    defer {
        for buffer in buffers {
            buffer?.deallocate()
        }
    }
    var template = zip(attributes, buffers).map { attribute, buffer in
        CK_ATTRIBUTE(type: attribute.type, pValue: buffer, ulValueLen: CK_ULONG(attribute.value.count))
    }
    return template.withUnsafeMutableBufferPointer { body($0.baseAddress, CK_ULONG($0.count)) }
}
