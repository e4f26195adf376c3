import CPKCS11
import Foundation
import PKI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PKCS#11 module (the vendor's `.so`: OpenSC for smart cards, an HSM's client library,
/// SoftHSM2 in tests), loaded and initialised once per process.
///
/// `PKCS11Module(path:)` is cheap after the first call for a path: every value made for the
/// same module file shares one loaded, initialised instance, because a module may be
/// `C_Initialize`d only once per process and its login state is shared by all its sessions.
public struct PKCS11Module: Sendable {
    let loaded: LoadedModule

    /// The path the module was loaded from (symbolic links resolved).
    public var path: String { loaded.path }

    /// Loads the module at `path` (or reuses the instance already loaded for it) and initialises
    /// it for multi-threaded use (`CKF_OS_LOCKING_OK`). Throws `.moduleUnavailable`, with the
    /// loader's message, when the file cannot be loaded, is not a PKCS#11 module, or refuses to
    /// initialise.
    public init(path: String) throws(SigningError) {
        loaded = try LoadedModule.shared(path: path)
    }

    /// The initialised tokens present in the module's slots, in slot order. Blank tokens and
    /// slots whose token cannot be described are left out.
    public func tokens() throws(SigningError) -> [PKCS11TokenInfo] {
        try loaded.tokens()
    }

    /// Calls `C_Finalize` if this process initialised the module and has not finalised it yet
    /// (later calls do nothing). Keys opened through the module stop working; a later
    /// `PKCS11Module(path:)` initialises the module afresh. The library stays mapped, since code
    /// elsewhere may still hold its function pointers.
    public func finalize() {
        loaded.finalize()
    }
}

/// What a slot's token says about itself (`CK_TOKEN_INFO`), with the blank padding removed.
public struct PKCS11TokenInfo: Sendable, Equatable {
    /// The slot holding the token.
    public let slotID: UInt
    /// The token label (at most 32 bytes on the token), the name GovOffice selects tokens by.
    public let label: String
    /// Manufacturer of the token.
    public let manufacturer: String
    /// Token model.
    public let model: String
    /// Serial number of the token.
    public let serialNumber: String
    /// A failed PIN attempt has been counted since the last successful login.
    public let userPINCountLow: Bool
    /// One more wrong PIN will lock the user PIN.
    public let userPINFinalTry: Bool
    /// The user PIN is locked; only the security officer can unblock it.
    public let userPINLocked: Bool
}

/// The one loaded instance of a module file. Its function list is immutable and thread-safe
/// (the module was initialised with OS locking); only the finalised flag and the counters change,
/// under `lock`.
final class LoadedModule: @unchecked Sendable {
    let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    /// Whether our `C_Initialize` did the initialising (someone else in the process may have),
    /// so that we only finalise what we initialised.
    private let initialisedByUs: Bool
    private let lock = NSLock()
    private var finalised = false
    private var loginCalls = 0

    private init(path: String, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>, initialisedByUs: Bool) {
        self.path = path
        self.functions = functions
        self.initialisedByUs = initialisedByUs
    }

    // MARK: Registry

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [String: LoadedModule] = [:]

    static func shared(path requested: String) throws(SigningError) -> LoadedModule {
        guard !requested.isEmpty else {
            throw SigningError(
                .moduleUnavailable,
                vi: "Chưa cấu hình đường dẫn thư viện PKCS#11.",
                en: "No PKCS#11 module path is configured."
            )
        }
        let path = resolvedPath(requested)
        registryLock.lock()
        defer { registryLock.unlock() }
        if let existing = registry[path] {
            return existing
        }
        let module = try load(path: path)
        registry[path] = module
        return module
    }

    /// The same file reached through a symbolic link must not be initialised twice.
    private static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func unavailable(_ path: String, _ detail: String) -> SigningError {
        SigningError(
            .moduleUnavailable,
            vi: "Không nạp được thư viện PKCS#11 \(path): \(detail)",
            en: "The PKCS#11 module \(path) could not be loaded: \(detail)"
        )
    }

    private static func load(path: String) throws(SigningError) -> LoadedModule {
        // RTLD_LOCAL: two vendors' modules may export the same internal symbols.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let detail = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw unavailable(path, detail)
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            dlclose(handle)
            throw unavailable(path, "C_GetFunctionList not found (not a PKCS#11 module)")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let listRV = getFunctionList(&list)
        guard listRV == CKR_OK, let functions = list, let initialize = functions.pointee.C_Initialize else {
            dlclose(handle)
            throw unavailable(path, "C_GetFunctionList returned \(returnValueName(listRV))")
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let initRV = withUnsafeMutablePointer(to: &arguments) { initialize(UnsafeMutableRawPointer($0)) }
        switch initRV {
        case CK_RV(CKR_OK):
            return LoadedModule(path: path, functions: functions, initialisedByUs: true)
        case CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED):
            return LoadedModule(path: path, functions: functions, initialisedByUs: false)
        default:
            dlclose(handle)
            throw unavailable(path, "C_Initialize returned \(returnValueName(initRV))")
        }
    }

    // MARK: State

    /// Throws once the module has been finalised, so that keys opened before fail clearly
    /// instead of calling into a module that has forgotten them.
    func checkUsable() throws(SigningError) {
        lock.lock()
        defer { lock.unlock() }
        if finalised {
            throw SigningError(
                .moduleUnavailable,
                vi: "Thư viện PKCS#11 \(path) đã bị đóng (C_Finalize).",
                en: "The PKCS#11 module \(path) has been finalised."
            )
        }
    }

    func finalize() {
        LoadedModule.registryLock.lock()
        if LoadedModule.registry[path] === self {
            LoadedModule.registry[path] = nil
        }
        LoadedModule.registryLock.unlock()
        lock.lock()
        let alreadyFinalised = finalised
        finalised = true
        lock.unlock()
        if !alreadyFinalised, initialisedByUs {
            _ = functions.pointee.C_Finalize?(nil)
        }
    }

    /// Counts every `C_Login` this process makes through the module, so tests can prove that a
    /// refused PIN is tried exactly once.
    func noteLoginCall() {
        lock.lock()
        loginCalls += 1
        lock.unlock()
    }

    /// How many times `C_Login` has been called through this module.
    var loginCallCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return loginCalls
    }

    // MARK: Slots and tokens

    func tokens() throws(SigningError) -> [PKCS11TokenInfo] {
        try checkUsable()
        guard let getSlotList = functions.pointee.C_GetSlotList,
            let getTokenInfo = functions.pointee.C_GetTokenInfo
        else {
            throw LoadedModule.unavailable(path, "the module lacks C_GetSlotList or C_GetTokenInfo")
        }
        var slots: [CK_SLOT_ID] = []
        // The slot count may grow between the two calls (a reader plugged in): ask again.
        var rv: CK_RV
        var attempts = 0
        repeat {
            attempts += 1
            var count: CK_ULONG = 0
            rv = getSlotList(CK_BBOOL(CK_TRUE), nil, &count)
            guard rv == CKR_OK else { break }
            slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
            rv = slots.withUnsafeMutableBufferPointer { getSlotList(CK_BBOOL(CK_TRUE), $0.baseAddress, &count) }
            if rv == CKR_OK {
                slots = Array(slots.prefix(Int(count)))
            }
        } while rv == CK_RV(CKR_BUFFER_TOO_SMALL) && attempts < 4
        guard rv == CKR_OK else {
            throw SigningError(
                .tokenNotFound,
                vi: "Không liệt kê được các khe đọc của thư viện PKCS#11 (\(returnValueName(rv))).",
                en: "C_GetSlotList failed: \(returnValueName(rv))"
            )
        }
        var result: [PKCS11TokenInfo] = []
        for slot in slots {
            var info = CK_TOKEN_INFO()
            // A blank token (SoftHSM always offers one) can hold no key and has no label yet.
            guard getTokenInfo(slot, &info) == CKR_OK, info.flags & CK_FLAGS(CKF_TOKEN_INITIALIZED) != 0 else { continue }
            result.append(
                PKCS11TokenInfo(
                    slotID: UInt(slot),
                    label: paddedText(info.label),
                    manufacturer: paddedText(info.manufacturerID),
                    model: paddedText(info.model),
                    serialNumber: paddedText(info.serialNumber),
                    userPINCountLow: info.flags & CK_FLAGS(CKF_USER_PIN_COUNT_LOW) != 0,
                    userPINFinalTry: info.flags & CK_FLAGS(CKF_USER_PIN_FINAL_TRY) != 0,
                    userPINLocked: info.flags & CK_FLAGS(CKF_USER_PIN_LOCKED) != 0
                )
            )
        }
        return result
    }
}

/// PKCS#11 text fields are fixed-size, blank-padded UTF-8 (some modules pad with NULs).
private func paddedText<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { raw in
        var bytes = Array(raw)
        while let last = bytes.last, last == 0x20 || last == 0 {
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The label as a token would store it, for comparison with a padded label read back.
func normalisedLabel(_ label: String) -> String {
    var bytes = Array(label.utf8)
    while let last = bytes.last, last == 0x20 {
        bytes.removeLast()
    }
    return String(decoding: bytes, as: UTF8.self)
}
