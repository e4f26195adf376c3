import ArgumentParser
import EdXML
import Fluent
import Foundation
import GovCore
import PKCS11
import PKI
import Vapor
import X509
import XMLSecurity

extension ToolFiles {
    static func signingFailure(_ error: SigningError) -> ToolFailure {
        ToolFailure(message: "\(error.code.rawValue): \(error.vi) / \(error.en)")
    }
}

// MARK: - Signing key options

/// The key a command signs with: a PEM key and certificate, or a PKCS#11 token. Shared by
/// `govoffice sign` and the hub client's `send`/`status`.
struct SigningOptions: ParsableArguments {
    @ArgumentParser.Option(help: "Khóa bí mật PEM / private key (PEM)") var key: String?
    @ArgumentParser.Option(help: "Chứng thư số PEM (và chuỗi CA) / certificate PEM (with its CA chain)") var cert: String?
    @ArgumentParser.Option(help: "Thư viện PKCS#11 / PKCS#11 module path (e.g. /usr/lib/softhsm/libsofthsm2.so)") var pkcs11: String?
    @ArgumentParser.Option(help: "Nhãn token / token label") var token: String?
    @ArgumentParser.Option(name: .customLong("key-label"), help: "Nhãn khóa trên token / key label on the token") var keyLabel: String?
    @ArgumentParser.Option(name: .customLong("pin-file"), help: "Tệp chứa PIN (mặc định: biến GOVOFFICE_PKCS11_PIN) / PIN file (default: GOVOFFICE_PKCS11_PIN)")
    var pinFile: String?

    /// Whether any key was named.
    var isGiven: Bool { key != nil || cert != nil || pkcs11 != nil || token != nil }

    func validate() throws {
        switch (key != nil || cert != nil, pkcs11 != nil || token != nil) {
        case (true, false):
            guard key != nil, cert != nil else { throw ValidationError("--key và --cert đi cùng nhau / --key needs --cert") }
        case (false, true):
            guard pkcs11 != nil, token != nil else {
                throw ValidationError("--pkcs11 và --token đi cùng nhau / --pkcs11 needs --token")
            }
        case (false, false):
            break
        case (true, true):
            throw ValidationError("Chọn --key/--cert hoặc --pkcs11/--token / give either --key and --cert, or --pkcs11 and --token")
        }
    }

    /// The key and the certificate chain (DER, signer first).
    func load() throws -> (any SigningKey, [[UInt8]]) {
        let signer: any SigningKey
        let chain: [[UInt8]]
        if let key, let cert {
            do {
                (signer, chain) = try SigningMaterial.software(keyPEM: try ToolFiles.text(key), certificatesPEM: try ToolFiles.text(cert))
            } catch let error as SigningError {
                throw ToolFiles.signingFailure(error)
            } catch let error as PKIError {
                throw ToolFailure(message: "\(error.code.rawValue): \(error.vi) / \(error.en)")
            }
        } else if let pkcs11, let token {
            let pin: PIN = pinFile.map { PIN.file($0) } ?? .environment(PIN.defaultEnvironmentVariable)
            do {
                let tokenKey = try PKCS11SigningKey.open(modulePath: pkcs11, tokenLabel: token, keyLabel: keyLabel, pin: pin)
                signer = tokenKey
                chain = [tokenKey.certificateDER] + tokenKey.certificateChainDER
            } catch {
                throw ToolFiles.signingFailure(error)
            }
        } else {
            throw ToolFailure(message: "Chưa chọn khóa ký / no signing key given (--key/--cert or --pkcs11/--token)")
        }
        guard !chain.isEmpty else { throw ToolFailure(message: "Không có chứng thư số / no certificate") }
        return (signer, chain)
    }

    /// Signs an edXML message with this key (loaded now, or the one given).
    func signEdXML(_ data: Data, key given: (any SigningKey)? = nil, chain givenChain: [[UInt8]]? = nil) throws -> Data {
        let (signer, chain): (any SigningKey, [[UInt8]])
        if let given, let givenChain { (signer, chain) = (given, givenChain) } else { (signer, chain) = try load() }
        do {
            return try XMLSigner.signEdXML(data, key: signer, certificateChainDER: chain)
        } catch {
            if let cause = error.signingError { throw ToolFiles.signingFailure(cause) }
            throw ToolFailure(message: "\(error.code.rawValue): \(error.vi) / \(error.en)")
        }
    }
}

// MARK: - govoffice sign

/// `govoffice sign`: signs an edXML message (enveloped XML-DSig in edXMLHeader) or any file
/// (`--cms`: a detached CMS signature), with a software key or a PKCS#11 token.
struct SignTool: AppToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice sign",
        abstract: "Ký số gói tin edXML hoặc tệp (CMS) / sign an edXML message or any file (CMS)")

    @OptionGroup var signing: SigningOptions
    @ArgumentParser.Flag(help: "Chữ ký CMS tách rời cho tệp bất kỳ / detached CMS signature of any file") var cms = false
    @ArgumentParser.Argument(help: "Tệp vào / input file") var input: String
    @ArgumentParser.Argument(help: "Tệp ra (gói tin đã ký, hoặc chữ ký .p7s) / output file") var output: String

    func validate() throws {
        guard signing.isGiven else {
            throw ValidationError("Chọn --key/--cert hoặc --pkcs11/--token / give either --key and --cert, or --pkcs11 and --token")
        }
    }

    func execute(_ app: Application) async throws {
        let (signer, chain) = try signing.load()
        let data = try ToolFiles.read(input)
        let signed: Data
        if cms {
            let certificates = try chain.map { try Certificate(derEncoded: $0) }
            do {
                signed = Data(try CMSSigner.signDetached(data, certificate: certificates[0], key: signer,
                                                         intermediates: Array(certificates.dropFirst())))
            } catch {
                throw ToolFiles.signingFailure(error)
            }
        } else {
            signed = try signing.signEdXML(data, key: signer, chain: chain)
        }
        try ToolFiles.write(signed, to: output)
        let subject = (try? Certificate(derEncoded: chain[0])).map { CertificateInfo($0).subject } ?? "?"
        print("Đã ký / signed: \(output) — \(subject)")
    }
}

// MARK: - govoffice verify

/// `govoffice verify`: checks a signed edXML message (or a CMS signature of a file) with the
/// deployment's PKI plus `--trust DIR`; prints signer, agency, chain and revocation; exit 0 only
/// when valid.
struct VerifyTool: AppToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice verify",
        abstract: "Kiểm tra chữ ký số / verify a signed edXML message or a CMS signature")

    @ArgumentParser.Option(help: "Thư mục CA tin cậy (PEM) / folder of trusted CA certificates") var trust: String?
    @ArgumentParser.Option(help: "Cơ quan phải là người ký (mặc định: nơi gửi trong gói tin) / the agency that must have signed (default: the message's From)")
    var sender: String?
    @ArgumentParser.Flag(help: "Chữ ký CMS tách rời / a detached CMS signature") var cms = false
    @ArgumentParser.Option(help: "Tệp được ký (với --cms) / the signed file (with --cms)") var content: String?
    @ArgumentParser.Flag(help: "Kết quả JSON / JSON output") var json = false
    @ArgumentParser.Argument(help: "Gói tin đã ký, hoặc chữ ký .p7s / signed message, or .p7s signature") var file: String

    func validate() throws {
        if cms, content == nil { throw ValidationError("--cms cần --content / --cms needs --content FILE") }
    }

    func execute(_ app: Application) async throws {
        var config = app.govConfig
        if let trust { config.trustDirectory = trust }
        let pki = PKIService(db: app.db, config: config, ocsp: app.ocspClient)
        let data = try ToolFiles.read(file)
        var report: SignatureReport
        if cms, let content {
            report = try await Self.checkCMS(signature: data, content: try ToolFiles.read(content), pki: pki)
        } else {
            // The message names its sender; the signature must be that agency's.
            var claimed = sender
            if claimed == nil, case .document(let message)? = (try? EdXMLReader.read(data))?.message {
                claimed = message.header.from.organId
            }
            report = try await SignatureCheck(pki: pki, unsignedPolicy: config.unsignedPolicy)
                .check(data, sender: claimed, requireBinding: false)
            if report.status == "valid", !report.agencyBound {
                report.warnings.append("certificate_unbound")
            }
        }
        if json {
            FileHandle.standardOutput.write(try ToolFiles.json(report))
        } else {
            print(Self.describe(report))
        }
        if !report.isAcceptable { throw ExitStatus(1) }
    }

    static func checkCMS(signature: Data, content: Data, pki: PKIService) async throws -> SignatureReport {
        let validator = try await pki.validator()
        let result = await CMSVerifier.verifyDetached(signature: Array(signature), data: content,
                                                      trustStore: validator.trustStore, options: validator.options)
        var report = SignatureReport(status: result.isValid ? "valid" : "invalid", agencyBound: false,
                                     chain: result.validation?.chain.map { CertificateInfo($0).subject } ?? [],
                                     revocation: result.validation.map { SignatureCheck.describe($0.revocation) } ?? "not checked",
                                     scheme: nil, warnings: result.validation?.warnings.map(\.code) ?? [])
        report.signer = result.signer.map(CertificateInfo.init)
        if let signer = report.signer {
            if let binding = try await pki.boundAgency(fingerprint: signer.sha256Fingerprint) {
                report.agencyCode = binding.agencyCode
                report.agencyBound = true
            } else {
                report.agencyCode = signer.agencyCode
            }
        }
        if case .invalid(let error) = result.status {
            let cause = result.validation?.error ?? error
            report.code = cause.code.rawValue
            report.messageVI = cause.vi
            report.messageEN = cause.en
        }
        return report
    }

    static func describe(_ report: SignatureReport) -> String {
        var lines: [String] = []
        switch report.status {
        case "valid": lines.append("HỢP LỆ / VALID")
        case "unsigned": lines.append("KHÔNG CÓ CHỮ KÝ (chấp nhận có cảnh báo) / UNSIGNED (accepted with a warning)")
        default: lines.append("KHÔNG HỢP LỆ / INVALID: \(report.code ?? "?") — \(report.messageVI ?? "") / \(report.messageEN ?? "")")
        }
        if let signer = report.signer {
            lines.append("Người ký / signer: \(signer.subject) (serial \(signer.serialHex))")
            lines.append("Hiệu lực / valid: \(signer.notBefore) → \(signer.notAfter)")
        }
        let agencySource = report.agencyBound ? "gắn trong danh bạ / bound in the directory" : "theo chứng thư / from the certificate"
        lines.append("Cơ quan / agency: \(report.agencyCode ?? "—") (\(agencySource))")
        if !report.chain.isEmpty { lines.append("Chuỗi / chain: " + report.chain.joined(separator: " ← ")) }
        lines.append("Thu hồi / revocation: \(report.revocation)")
        if let scheme = report.scheme { lines.append("Thuật toán / algorithm: \(scheme)") }
        if !report.warnings.isEmpty { lines.append("Cảnh báo / warnings: " + report.warnings.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }
}

// MARK: - govoffice pki

/// `govoffice pki …`: the trust store, revocation and the demo PKI from the command line.
struct PKITool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice pki",
        abstract: "Hạ tầng khóa công khai / trusted CAs, revocation, agency certificates, demo PKI",
        subcommands: [Demo.self, Trust.self, Untrust.self, CRLImport.self, Revoke.self, Bind.self, List.self])

    /// `pki demo`: a demo root CA, one certificate per agency and per person, registered.
    struct Demo: AppToolCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tạo CA mẫu và chứng thư cho cơ quan, người dùng mẫu / create the demo CA and certificates")

        func execute(_ app: Application) async throws {
            let result = try await DemoCertificates.create(app)
            print(result.summary)
        }
    }

    struct Trust: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Tin cậy CA từ tệp PEM / trust the CA certificates of a PEM file")
        @ArgumentParser.Argument(help: "PEM file") var file: String

        func execute(_ app: Application) async throws {
            let added = try await app.pki.addAnchors(pem: try ToolFiles.text(file), source: "cli", actor: .commandLine)
            print("Đã thêm / added \(added.count): " + added.map(\.subject).joined(separator: "; "))
        }
    }

    struct Untrust: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Thôi tin cậy một CA / stop trusting a CA (by SHA-256 fingerprint)")
        @ArgumentParser.Argument(help: "SHA-256 fingerprint (from `pki list`)") var fingerprint: String

        func execute(_ app: Application) async throws {
            try await app.pki.removeAnchor(fingerprint: fingerprint.lowercased().filter { $0 != ":" }, actor: .commandLine)
            print("Đã gỡ / removed: \(fingerprint)")
        }
    }

    struct CRLImport: AppToolCommand {
        static let configuration = CommandConfiguration(commandName: "crl", abstract: "Nhập danh sách thu hồi CRL / import a CRL (DER or PEM)")
        @ArgumentParser.Argument(help: "CRL file") var file: String

        func execute(_ app: Application) async throws {
            let record = try await app.pki.importCRL(Array(try ToolFiles.read(file)), actor: .commandLine)
            print("CRL: \(record.issuer) — \(record.entries) chứng thư bị thu hồi / revoked entries")
        }
    }

    struct Revoke: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Thu hồi chứng thư tại chỗ / revoke a certificate locally")
        @ArgumentParser.Option(help: "Tên CA phát hành (như chứng thư ghi) / issuer name as in the certificate") var issuer: String?
        @ArgumentParser.Option(help: "Số hiệu hex / serial (hex)") var serial: String?
        @ArgumentParser.Option(help: "Chứng thư PEM (thay cho --issuer/--serial) / the certificate instead") var cert: String?
        @ArgumentParser.Option(help: "keyCompromise, cessationOfOperation, …") var reason = "keyCompromise"

        func execute(_ app: Application) async throws {
            guard let reason = RevocationReason.named(reason) else {
                throw ToolFailure(message: "Lý do không hợp lệ / unknown reason: \(reason)")
            }
            var issuerName = issuer
            var serialHex = serial
            if let cert {
                guard let certificate = try CertificateReader.certificates(pem: try ToolFiles.text(cert)).first else {
                    throw ToolFailure(message: "Không có chứng thư trong tệp / no certificate in \(cert)")
                }
                let info = CertificateInfo(certificate)
                issuerName = info.issuer
                serialHex = info.serialHex
            }
            guard let issuerName, let serialHex else {
                throw ToolFailure(message: "Cần --cert, hoặc --issuer và --serial / give --cert, or --issuer and --serial")
            }
            try await app.pki.revokeSerial(issuer: issuerName, serial: serialHex, reason: reason, actor: .commandLine)
            print("Đã thu hồi / revoked: \(serialHex) (\(issuerName))")
        }
    }

    struct Bind: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Gắn chứng thư với cơ quan / bind a certificate to an agency")
        @ArgumentParser.Option(help: "Mã cơ quan / agency code") var agency: String
        @ArgumentParser.Option(help: "agency | person") var kind = "agency"
        @ArgumentParser.Option(help: "Tên đăng nhập (kind person) / username") var username: String?
        @ArgumentParser.Argument(help: "Certificate PEM") var file: String

        func execute(_ app: Application) async throws {
            let record = try await app.pki.bind(certificatePEM: try ToolFiles.text(file), agencyCode: agency, kind: kind,
                                                username: username, actor: .commandLine,
                                                agencies: AgencyDirectory(db: app.db))
            print("Đã gắn / bound: \(record.subject) → \(record.agencyCode)")
        }
    }

    struct List: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê CA tin cậy, CRL, chứng thư / list trust, CRLs, bindings")

        func execute(_ app: Application) async throws {
            let pki = app.pki
            for anchor in try await pki.trustStore().anchors {
                print("CA\(anchor.isDemo ? " [DEMO]" : ""): \(anchor.info.subject) (hết hạn / until \(anchor.info.notAfter)) "
                      + "sha256 \(anchor.info.sha256Fingerprint)")
            }
            for crl in try await pki.revocationLists() { print("CRL: \(crl.issuer) — \(crl.entries)") }
            for revoked in try await pki.revokedSerials() { print("Thu hồi / revoked: \(revoked.serial) (\(revoked.issuer))") }
            for binding in try await pki.bindings() {
                print("\(binding.agencyCode) \(binding.kind): \(binding.subject)\(binding.username.map { " [\($0)]" } ?? "")")
            }
        }
    }
}
