import CPKCS11
import Crypto
import Foundation
import PKI
import SwiftASN1
import X509
import _CryptoExtras

/// A private key on a PKCS#11 token (smart card through OpenSC, HSM, SoftHSM2), usable wherever
/// a `SigningKey` is. The key never leaves the token; the certificate stored next to it supplies
/// the public key and the chain.
///
/// One instance owns one session on the token, logged in as the user once when opened. Signing
/// calls are serialised on that session, so one key may be shared by many tasks. If the session
/// is lost (card pulled and put back, reader reset) one new session is opened and logged into
/// with the same PIN, once; a refused PIN is never tried again by this key.
public final class PKCS11SigningKey: SigningKey, @unchecked Sendable {
    /// How this key signs: `.rsaPKCS1SHA256` for RSA keys, `.ecdsaP256SHA256` for P-256 keys.
    public let scheme: SignatureScheme
    /// The DER SubjectPublicKeyInfo of the key, taken from its certificate.
    public let publicKeyDER: [UInt8]
    /// The DER certificate stored on the token with the key (same `CKA_ID`, else same label).
    public let certificateDER: [UInt8]
    /// The other certificates on the token that certify this one, issuer first, up to the root
    /// if the token holds it; empty when the token holds none. Unrelated certificates on the
    /// token are left out.
    public let certificateChainDER: [[UInt8]]
    /// The label of the token the key is on.
    public let tokenLabel: String
    /// The key's `CKA_LABEL`, as requested (nil when selected by id only).
    public let keyLabel: String?
    /// The key's `CKA_ID` on the token (empty if the key has none).
    public let keyID: [UInt8]

    private let module: LoadedModule
    private let pin: PINSecret?
    private let alwaysAuthenticate: Bool
    /// Guards `session`, `keyHandle` and `pinFailure`: a PKCS#11 session is single-threaded.
    private let lock = NSLock()
    private var session: TokenSession?
    private var keyHandle: CK_OBJECT_HANDLE
    /// Set once the token refuses the PIN; every later call fails with it instead of trying the
    /// PIN again (each try counts towards locking the card).
    private var pinFailure: SigningError?

    private init(
        located: LocatedKey,
        tokenLabel: String,
        keyLabel: String?,
        module: LoadedModule,
        pin: PINSecret?,
        session: TokenSession
    ) {
        scheme = located.scheme
        publicKeyDER = located.publicKeyDER
        certificateDER = located.certificateDER
        certificateChainDER = located.chainDER
        keyID = located.id
        alwaysAuthenticate = located.alwaysAuthenticate
        keyHandle = located.handle
        self.tokenLabel = tokenLabel
        self.keyLabel = keyLabel
        self.module = module
        self.pin = pin
        self.session = session
    }

    deinit {
        if (try? module.checkUsable()) != nil {
            session?.close()
        }
    }

    /// Opens the key labelled `keyLabel` (and/or with `CKA_ID` `keyID`, in hex) on the token
    /// labelled `tokenLabel`, in the module at `modulePath`, logging in with the PIN read from
    /// `pin` (one attempt). With neither label nor id, the token's only private key is used;
    /// a token with several keys then gives `.objectNotFound` asking for the id.
    ///
    /// Errors: `.moduleUnavailable` (module cannot be loaded), `.tokenNotFound` (lists the labels
    /// present), `.pinMissing`, `.pinIncorrect` (the token counted one failure; nothing is
    /// retried), `.pinLocked`, `.objectNotFound` (no such key or no certificate for it),
    /// `.unsupportedScheme` (neither RSA nor EC P-256), `.keyCertificateMismatch`,
    /// `.keyUnreadable` (the certificate cannot be parsed), `.signingFailed` (other token errors).
    public static func open(
        modulePath: String,
        tokenLabel: String,
        keyLabel: String? = nil,
        keyID: String? = nil,
        pin: PIN
    ) throws(SigningError) -> PKCS11SigningKey {
        let module = try PKCS11Module(path: modulePath).loaded
        let selector = try KeySelector(label: keyLabel, idHex: keyID)
        let token = try findToken(module: module, label: tokenLabel)
        guard !token.userPINLocked else { throw pinLockedError(tokenLabel) }
        let secret = try pin.secret()
        let session = try openSession(module: module, slot: CK_SLOT_ID(token.slotID))
        do throws(SigningError) {
            try logIn(session, pin: secret, tokenLabel: tokenLabel)
            let located = try locate(selector, in: session, tokenLabel: tokenLabel)
            return PKCS11SigningKey(
                located: located,
                tokenLabel: tokenLabel,
                keyLabel: keyLabel,
                module: module,
                pin: secret,
                session: session
            )
        } catch {
            session.close()
            throw error
        }
    }

    /// Signs a 32-byte SHA-256 digest on the token: RSA with `CKM_RSA_PKCS` over the DigestInfo,
    /// EC with `CKM_ECDSA`, returning raw `r ‖ s`. Token failures are `.signingFailed` with the
    /// `CKR_` name in `en`; PIN refusals on re-login are `.pinIncorrect` / `.pinLocked`.
    public func sign(digest: [UInt8]) throws(SigningError) -> [UInt8] {
        guard digest.count == 32 else {
            throw SigningError(
                .signingFailed,
                vi: "Dữ liệu cần ký phải là giá trị băm SHA-256 (32 byte), nhận được \(digest.count) byte.",
                en: "A SHA-256 digest (32 bytes) is required; got \(digest.count) bytes."
            )
        }
        let input: [UInt8]
        let mechanism: CK_MECHANISM_TYPE
        switch scheme {
        case .rsaPKCS1SHA256:
            input = PKCS11SigningKey.sha256DigestInfoPrefix + digest
            mechanism = CK_MECHANISM_TYPE(CKM_RSA_PKCS)
        case .ecdsaP256SHA256:
            input = digest
            mechanism = CK_MECHANISM_TYPE(CKM_ECDSA)
        case .rsaPKCS1SHA1:
            throw unsupportedScheme(en: "RSA with SHA-1 is for verification only")
        }

        lock.lock()
        defer { lock.unlock() }
        if let pinFailure { throw pinFailure }
        try module.checkUsable()

        let first = try attempt(input, mechanism: mechanism)
        switch first {
        case .success(let signature):
            return try checked(signature)
        case .failure(let failure) where failure.sessionLost:
            try reopen()
            switch try attempt(input, mechanism: mechanism) {
            case .success(let signature):
                return try checked(signature)
            case .failure(let failure):
                throw signingFailed(failure)
            }
        case .failure(let failure):
            throw signingFailed(failure)
        }
    }

    /// The DER prefix of a DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1), before the
    /// 32 digest bytes: CKM_RSA_PKCS pads whatever it is given, so the DigestInfo is ours to add.
    static let sha256DigestInfoPrefix: [UInt8] = [
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
    ]

    // MARK: Signing internals (called with `lock` held)

    /// One signing attempt on the current session. PIN refusals become thrown errors (and are
    /// remembered); other failures are returned for the caller to judge.
    private func attempt(_ input: [UInt8], mechanism: CK_MECHANISM_TYPE) throws(SigningError) -> Result<[UInt8], CallFailure> {
        guard let session else {
            return .failure(CallFailure(function: "C_Sign", rv: CK_RV(CKR_SESSION_HANDLE_INVALID)))
        }
        switch session.sign(input, mechanism: mechanism, key: keyHandle, contextPIN: alwaysAuthenticate ? pin : nil) {
        case .success(let signature):
            return .success(signature)
        case .failure(.call(let failure)):
            return .failure(failure)
        case .failure(.login(let rv)):
            // The operation may still be pending on this session; a fresh one is cleaner.
            session.close()
            self.session = nil
            if let error = PKCS11SigningKey.pinError(rv, tokenLabel: tokenLabel) {
                pinFailure = error
                throw error
            }
            return .failure(CallFailure(function: "C_Login", rv: rv))
        }
    }

    /// Replaces a lost session: finds the token again (its slot may have changed), opens a
    /// session, logs in once and finds the key again (object handles belong to the old session).
    private func reopen() throws(SigningError) {
        session?.close()
        session = nil
        let token = try PKCS11SigningKey.findToken(module: module, label: tokenLabel)
        guard !token.userPINLocked else {
            let error = PKCS11SigningKey.pinLockedError(tokenLabel)
            pinFailure = error
            throw error
        }
        let fresh = try PKCS11SigningKey.openSession(module: module, slot: CK_SLOT_ID(token.slotID))
        do throws(SigningError) {
            try PKCS11SigningKey.logIn(fresh, pin: pin, tokenLabel: tokenLabel)
        } catch {
            fresh.close()
            if error.code == .pinIncorrect || error.code == .pinLocked {
                pinFailure = error
            }
            throw error
        }
        // The id found at open time pins the very same key, even if labels were reused.
        let selector = keyID.isEmpty ? KeySelector(label: keyLabel, id: nil) : KeySelector(label: nil, id: keyID)
        switch PKCS11SigningKey.findKey(selector, in: fresh, tokenLabel: tokenLabel) {
        case .success(let handle):
            session = fresh
            keyHandle = handle
        case .failure(let error):
            fresh.close()
            throw error
        }
    }

    private func checked(_ signature: [UInt8]) throws(SigningError) -> [UInt8] {
        let valid =
            switch scheme {
            case .ecdsaP256SHA256: signature.count == 64
            default: !signature.isEmpty
            }
        guard valid else {
            throw SigningError(
                .signingFailed,
                vi: "Token trả về chữ ký có độ dài bất thường (\(signature.count) byte).",
                en: "The token returned a signature of unexpected length (\(signature.count) bytes)."
            )
        }
        return signature
    }

    private func signingFailed(_ failure: CallFailure) -> SigningError {
        SigningError(
            .signingFailed,
            vi: "Token “\(tokenLabel)” không ký được (\(failure.name)).",
            en: "Signing on token \"\(tokenLabel)\" failed: \(failure.function) returned \(failure.name)."
        )
    }
}

// MARK: - Opening

/// Which private key to use: by label, by id, or both (both must match).
struct KeySelector {
    let label: String?
    let id: [UInt8]?

    init(label: String?, id: [UInt8]?) {
        self.label = label
        self.id = id
    }

    init(label: String?, idHex: String?) throws(SigningError) {
        var id: [UInt8]?
        if let idHex {
            guard let parsed = hexBytes(idHex) else {
                throw SigningError(
                    .objectNotFound,
                    vi: "Mã định danh khoá (CKA_ID) “\(idHex)” không phải chuỗi hex hợp lệ.",
                    en: "The key id \"\(idHex)\" is not valid hex."
                )
            }
            id = parsed
        }
        // Neither given: the token's only private key (a smart card usually holds one signing
        // key); several keys are refused as ambiguous by the search.
        self.label = label
        self.id = id
    }

    var description: String {
        switch (label, id) {
        case (let label?, let id?): "label \"\(label)\" and id \(hexString(id))"
        case (let label?, nil): "label \"\(label)\""
        case (nil, let id?): "id \(hexString(id))"
        case (nil, nil): "any label (the token's only key)"
        }
    }

    func template(objectClass: CK_OBJECT_CLASS) -> [TemplateAttribute] {
        var template = [TemplateAttribute.ulong(CK_ATTRIBUTE_TYPE(CKA_CLASS), objectClass)]
        if let label {
            template.append(.bytes(CK_ATTRIBUTE_TYPE(CKA_LABEL), Array(label.utf8)))
        }
        if let id {
            template.append(.bytes(CK_ATTRIBUTE_TYPE(CKA_ID), id))
        }
        return template
    }
}

/// What `open` learnt about the key and its certificates.
struct LocatedKey {
    let handle: CK_OBJECT_HANDLE
    let id: [UInt8]
    let scheme: SignatureScheme
    let alwaysAuthenticate: Bool
    let publicKeyDER: [UInt8]
    let certificateDER: [UInt8]
    let chainDER: [[UInt8]]
}

extension PKCS11SigningKey {
    static func findToken(module: LoadedModule, label: String) throws(SigningError) -> PKCS11TokenInfo {
        let tokens = try module.tokens()
        let wanted = normalisedLabel(label)
        let matching = tokens.filter { $0.label == wanted }
        if matching.count == 1, let token = matching.first {
            return token
        }
        let present = tokens.isEmpty ? "(none)" : tokens.map { "\"\($0.label)\"" }.joined(separator: ", ")
        if matching.isEmpty {
            throw SigningError(
                .tokenNotFound,
                vi: "Không tìm thấy token có nhãn “\(label)”. Token hiện có: \(present).",
                en: "No token labelled \"\(label)\" is present. Tokens present: \(present)."
            )
        }
        // Two cards with one label: signing with the wrong one would be worse than stopping.
        throw SigningError(
            .tokenNotFound,
            vi: "Có \(matching.count) token cùng nhãn “\(label)”; hãy chỉ cắm một token.",
            en: "\(matching.count) tokens are labelled \"\(label)\"; present only one."
        )
    }

    static func openSession(module: LoadedModule, slot: CK_SLOT_ID) throws(SigningError) -> TokenSession {
        switch TokenSession.open(module: module, slot: slot) {
        case .success(let session):
            return session
        case .failure(let failure):
            throw SigningError(
                failure.sessionLost ? .tokenNotFound : .signingFailed,
                vi: "Không mở được phiên làm việc với token (\(failure.name)).",
                en: "C_OpenSession failed: \(failure.name)."
            )
        }
    }

    /// Exactly one `C_Login` as the user. "Already logged in" is success: PKCS#11 login state
    /// belongs to the application and the token, so another session of this process may have
    /// logged in before.
    static func logIn(_ session: TokenSession, pin: PINSecret?, tokenLabel: String) throws(SigningError) {
        guard let pin else { return }
        let rv = session.login(userType: CK_USER_TYPE(CKU_USER), pin: pin)
        if rv == CKR_OK || rv == CK_RV(CKR_USER_ALREADY_LOGGED_IN) {
            return
        }
        if let error = pinError(rv, tokenLabel: tokenLabel) {
            throw error
        }
        throw SigningError(
            .signingFailed,
            vi: "Không đăng nhập được vào token “\(tokenLabel)” (\(returnValueName(rv))).",
            en: "C_Login on token \"\(tokenLabel)\" failed: \(returnValueName(rv))."
        )
    }

    /// The PIN-related refusals, which must never lead to another attempt.
    static func pinError(_ rv: CK_RV, tokenLabel: String) -> SigningError? {
        switch rv {
        case CK_RV(CKR_PIN_INCORRECT), CK_RV(CKR_PIN_INVALID), CK_RV(CKR_PIN_LEN_RANGE):
            SigningError(
                .pinIncorrect,
                vi: "Mã PIN của token “\(tokenLabel)” không đúng. Hệ thống không thử lại để tránh khoá token; "
                    + "hãy kiểm tra cấu hình mã PIN.",
                en: "Token \"\(tokenLabel)\" refused the PIN (\(returnValueName(rv))). It was tried once and will not "
                    + "be retried; check the configured PIN before trying again, as tokens lock after a few failures."
            )
        case CK_RV(CKR_PIN_LOCKED):
            pinLockedError(tokenLabel)
        default:
            nil
        }
    }

    static func pinLockedError(_ tokenLabel: String) -> SigningError {
        SigningError(
            .pinLocked,
            vi: "Mã PIN của token “\(tokenLabel)” đã bị khoá; cần người quản trị token (SO) mở khoá.",
            en: "The user PIN of token \"\(tokenLabel)\" is locked (CKR_PIN_LOCKED); the security officer must unblock it."
        )
    }

    static func findKey(
        _ selector: KeySelector,
        in session: TokenSession,
        tokenLabel: String
    ) -> Result<CK_OBJECT_HANDLE, SigningError> {
        switch session.findObjects(selector.template(objectClass: CK_OBJECT_CLASS(CKO_PRIVATE_KEY)), limit: 2) {
        case .failure(let failure):
            return .failure(objectSearchFailed(failure, tokenLabel: tokenLabel))
        case .success(let handles):
            guard let handle = handles.first else {
                return .failure(
                    SigningError(
                        .objectNotFound,
                        vi: "Không có khoá bí mật với \(selector.description) trên token “\(tokenLabel)”.",
                        en: "No private key with \(selector.description) on token \"\(tokenLabel)\"."
                    )
                )
            }
            guard handles.count == 1 else {
                return .failure(
                    SigningError(
                        .objectNotFound,
                        vi: "Có nhiều khoá bí mật với \(selector.description) trên token “\(tokenLabel)”; hãy chỉ rõ CKA_ID.",
                        en: "Several private keys have \(selector.description) on token \"\(tokenLabel)\"; give the key id."
                    )
                )
            }
            return .success(handle)
        }
    }

    /// Finds the key and its certificate and checks they belong together.
    static func locate(_ selector: KeySelector, in session: TokenSession, tokenLabel: String) throws(SigningError) -> LocatedKey {
        let handle = try findKey(selector, in: session, tokenLabel: tokenLabel).get()
        let id = try read(CK_ATTRIBUTE_TYPE(CKA_ID), of: handle, in: session, tokenLabel: tokenLabel) ?? []
        guard let keyTypeBytes = try read(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: handle, in: session, tokenLabel: tokenLabel),
            let keyType = ulongValue(keyTypeBytes)
        else {
            throw unsupportedScheme(en: "the key has no readable CKA_KEY_TYPE")
        }
        let alwaysAuthenticate =
            try read(CK_ATTRIBUTE_TYPE(CKA_ALWAYS_AUTHENTICATE), of: handle, in: session, tokenLabel: tokenLabel)?
            .first.map { $0 != 0 } ?? false

        let certificates = try allCertificates(in: session, tokenLabel: tokenLabel)
        let certificate = try certificateFor(keyID: id, label: selector.label, among: certificates, in: session, tokenLabel: tokenLabel)

        let scheme: SignatureScheme
        switch keyType {
        case CK_KEY_TYPE(CKK_RSA):
            scheme = .rsaPKCS1SHA256
            guard let certificateKey = _RSA.Signing.PublicKey(certificate.parsed.publicKey) else {
                throw mismatch(tokenLabel, en: "the key is RSA but its certificate's key is not")
            }
            let modulus = try read(CK_ATTRIBUTE_TYPE(CKA_MODULUS), of: handle, in: session, tokenLabel: tokenLabel)
            if let modulus, let primitives = try? certificateKey.getKeyPrimitives(),
                strippedLeadingZeros(modulus) != strippedLeadingZeros(Array(primitives.modulus))
            {
                throw mismatch(tokenLabel, en: "the RSA modulus of the key differs from the certificate's")
            }
        case CK_KEY_TYPE(CKK_EC):
            if let parameters = try read(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), of: handle, in: session, tokenLabel: tokenLabel) {
                guard let curve = try? ASN1ObjectIdentifier(derEncoded: parameters),
                    curve == ASN1ObjectIdentifier.NamedCurves.secp256r1
                else {
                    throw unsupportedScheme(en: "only the EC curve P-256 is supported")
                }
            }
            scheme = .ecdsaP256SHA256
            guard P256.Signing.PublicKey(certificate.parsed.publicKey) != nil else {
                throw mismatch(tokenLabel, en: "the key is EC P-256 but its certificate's key is not")
            }
        default:
            throw unsupportedScheme(en: "key type 0x\(String(keyType, radix: 16)) is neither RSA nor EC")
        }

        var serializer = DER.Serializer()
        do {
            try serializer.serialize(certificate.parsed.publicKey)
        } catch {
            throw SigningError(
                .keyUnreadable,
                vi: "Không đọc được khoá công khai trong chứng thư số trên token.",
                en: "The certificate's public key could not be encoded: \(error)"
            )
        }
        return LocatedKey(
            handle: handle,
            id: id,
            scheme: scheme,
            alwaysAuthenticate: alwaysAuthenticate,
            publicKeyDER: Array(serializer.serializedBytes),
            certificateDER: certificate.der,
            chainDER: chain(from: certificate, among: certificates)
        )
    }

    private struct TokenCertificate {
        let handle: CK_OBJECT_HANDLE
        let der: [UInt8]
        let parsed: Certificate
    }

    /// Every X.509 certificate on the token that parses; others (attribute certificates,
    /// unsupported key types) cannot be the signer's anyway.
    private static func allCertificates(in session: TokenSession, tokenLabel: String) throws(SigningError) -> [TokenCertificate] {
        let template = [TemplateAttribute.ulong(CK_ATTRIBUTE_TYPE(CKA_CLASS), CK_OBJECT_CLASS(CKO_CERTIFICATE))]
        let handles: [CK_OBJECT_HANDLE]
        switch session.findObjects(template, limit: 256) {
        case .success(let found): handles = found
        case .failure(let failure): throw objectSearchFailed(failure, tokenLabel: tokenLabel)
        }
        var certificates: [TokenCertificate] = []
        for handle in handles {
            guard let der = try read(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: handle, in: session, tokenLabel: tokenLabel),
                let parsed = try? Certificate(derEncoded: der)
            else { continue }
            certificates.append(TokenCertificate(handle: handle, der: der, parsed: parsed))
        }
        return certificates
    }

    /// The certificate with the key's `CKA_ID` (the usual pairing), else the one with the key's
    /// label.
    private static func certificateFor(
        keyID: [UInt8],
        label: String?,
        among certificates: [TokenCertificate],
        in session: TokenSession,
        tokenLabel: String
    ) throws(SigningError) -> TokenCertificate {
        for (attributeType, wanted) in [(CK_ATTRIBUTE_TYPE(CKA_ID), keyID), (CK_ATTRIBUTE_TYPE(CKA_LABEL), Array((label ?? "").utf8))]
        where !wanted.isEmpty {
            for certificate in certificates {
                if try read(attributeType, of: certificate.handle, in: session, tokenLabel: tokenLabel) == wanted {
                    return certificate
                }
            }
        }
        throw SigningError(
            .objectNotFound,
            vi: "Không có chứng thư số đi kèm khoá trên token “\(tokenLabel)”.",
            en: "No certificate with the key's id \(hexString(keyID)) or label \"\(label ?? "")\" on token \"\(tokenLabel)\"."
        )
    }

    /// The issuers of `leaf` found on the token, nearest first, stopping at a self-issued
    /// certificate or when the token holds no issuer.
    private static func chain(from leaf: TokenCertificate, among certificates: [TokenCertificate]) -> [[UInt8]] {
        var pool = certificates.filter { $0.der != leaf.der }
        var chain: [[UInt8]] = []
        var current = leaf.parsed
        while current.issuer != current.subject, let index = pool.firstIndex(where: { $0.parsed.subject == current.issuer }) {
            chain.append(pool[index].der)
            current = pool[index].parsed
            pool.remove(at: index)
        }
        return chain
    }

    private static func read(
        _ type: CK_ATTRIBUTE_TYPE,
        of object: CK_OBJECT_HANDLE,
        in session: TokenSession,
        tokenLabel: String
    ) throws(SigningError) -> [UInt8]? {
        switch session.attribute(type, of: object) {
        case .success(let value): return value
        case .failure(let failure): throw objectSearchFailed(failure, tokenLabel: tokenLabel)
        }
    }

    private static func objectSearchFailed(_ failure: CallFailure, tokenLabel: String) -> SigningError {
        SigningError(
            .signingFailed,
            vi: "Không đọc được đối tượng trên token “\(tokenLabel)” (\(failure.name)).",
            en: "\(failure.function) on token \"\(tokenLabel)\" failed: \(failure.name)."
        )
    }

    private static func mismatch(_ tokenLabel: String, en: String) -> SigningError {
        SigningError(
            .keyCertificateMismatch,
            vi: "Khoá bí mật và chứng thư số trên token “\(tokenLabel)” không khớp nhau.",
            en: "The key and certificate on token \"\(tokenLabel)\" do not match: \(en)."
        )
    }
}

private func unsupportedScheme(en: String) -> SigningError {
    SigningError(
        .unsupportedScheme,
        vi: "Loại khoá trên token không được hỗ trợ (chỉ hỗ trợ RSA và ECDSA P-256).",
        en: "Unsupported key on the token: \(en)."
    )
}

private func ulongValue(_ bytes: [UInt8]) -> CK_ULONG? {
    guard bytes.count == MemoryLayout<CK_ULONG>.size else { return nil }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: CK_ULONG.self) }
}

private func strippedLeadingZeros(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    bytes.drop(while: { $0 == 0 })
}

private func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8).filter { $0 != UInt8(ascii: ":") }
    guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.isEmpty ? "(none)" : bytes.map { String(format: "%02x", $0) }.joined()
}
