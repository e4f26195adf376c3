import Fluent
import FluentSQLiteDriver
import Foundation
import GovCore
import Leaf
import Vapor

/// The one composition root: database, migrations, middleware, views, routes and commands.
public func configure(_ app: Application) async throws {
    try await configure(app, config: AppConfig.fromEnvironment())
}

/// Configures `app` with an explicit configuration (tests pass theirs).
public func configure(_ app: Application, config: AppConfig) async throws {
    app.govConfig = config
    try ResourceRoot.configure(app)
    try OfficeCalendar.load(app)
    app.translations = try Translations(directory: URL(fileURLWithPath: app.directory.resourcesDirectory)
        .appendingPathComponent("Locales"))

    // Database
    try DatabaseSetup.register(app, config.database, poolPerLoop: config.databasePoolPerLoop)
    GovMigrations.register(app)
    app.passwords.use(.bcrypt(cost: config.bcryptCost))
    app.installDummyPasswordHash()
    app.sessions.use { _ in WebSessionDriver() }
    app.sessions.configuration = SessionsConfiguration(cookieName: SessionAuthMiddleware.cookieName) { id in
        // Secure is added per request by CookieSecurityMiddleware when the request is HTTPS.
        HTTPCookies.Value(string: id.string, expires: nil, maxAge: nil, path: "/", isSecure: false,
                          isHTTPOnly: true, sameSite: .lax)
    }

    // HTTP
    app.routes.defaultMaxBodySize = ByteCount(value: config.maxBodyBytes)
    // No route takes a text/plain body; Vapor's plain-text decoder would turn a form sent as
    // text/plain into 400 "invalid value in field: " instead of 415.
    ContentConfiguration.global.use(decoder: PlainTextBodyRefused(), for: .plainText)
    app.middleware = .init()
    let drain = RequestDrain()
    app.middleware.use(drain)
    // Lifecycle handlers shut down before Vapor empties the storage that holds the databases.
    app.lifecycle.use(drain)
    app.middleware.use(RequestIDMiddleware())
    app.middleware.use(MetricsMiddleware(metrics: app.metrics))
    app.middleware.use(RouteLoggingMiddleware(logLevel: .info))
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(AppErrorMiddleware())
    app.middleware.use(CookieSecurityMiddleware())
    app.middleware.use(FileMiddleware(publicDirectory: app.directory.publicDirectory))

    // Views
    app.views.use(.leaf)
    app.leaf.tags["t"] = TranslateTag()
    app.leaf.tags["csrf"] = CSRFFieldTag()
    // Vapor re-parses templates on every request in development, which is the environment
    // `swift run govoffice serve` runs in; a served product caches them.
    app.leaf.cache.isEnabled = !config.reloadTemplates

    // Every value a getter installs in the application's storage on first use is installed now, while
    // configuring is single-threaded. A storage write copies the whole storage and sets it back, so two
    // first uses on different threads can lose one of the writes — once it was the HTTP server that
    // `serve` had just started, which then crashed the process ("HTTPServer did not shutdown before
    // deinitializing") when a worker's first use of the seal coincided with it.
    _ = app.demoPasswordAccounts
    _ = app.appKeys
    _ = app.secrets
    _ = app.ocspClient
    _ = app.pkiValidatorCache
    _ = app.inboxSignal
    _ = app.ingestBatcher
    try routes(app)

    // Commands
    app.asyncCommands.use(AgenciesCommand(), as: "agencies")
    app.asyncCommands.use(AuditCommand(), as: "audit")
    app.asyncCommands.use(BackupCommand(), as: "backup")
    app.asyncCommands.use(DemoCommand(), as: "demo")
    app.asyncCommands.use(UsersCommand(), as: "users")
    app.asyncCommands.use(OfficeCommand(), as: "office")
    app.asyncCommands.use(SecretsCommand(), as: "secrets")
    app.asyncCommands.use(ToolBridge<EdXMLTool>(help: "Đọc, kiểm tra, tạo gói tin edXML (QCVN 102:2016) / read, validate and build edXML messages"), as: "edxml")
    app.asyncCommands.use(ToolBridge<SignTool>(help: "Ký số gói tin edXML hoặc tệp / sign an edXML message or a file"), as: "sign")
    app.asyncCommands.use(ToolBridge<VerifyTool>(help: "Kiểm tra chữ ký số / verify a signature"), as: "verify")
    app.asyncCommands.use(ToolBridge<SystemsTool>(help: "Thông tin xác thực hệ thống / agency system credentials"), as: "systems")
    app.asyncCommands.use(ToolBridge<ExchangeTool>(help: "Trục liên thông: chuỗi bằng chứng, dọn dữ liệu / the hub: evidence chain, retention"),
                          as: "exchange")
    app.asyncCommands.use(ToolBridge<ClientTool>(help: "Máy khách trục liên thông / the hub client (send, inbox, fetch, ack, status, watch)"),
                          as: "client")
    app.asyncCommands.use(ToolBridge<PKITool>(help: "CA tin cậy, thu hồi, chứng thư cơ quan, PKI mẫu / trust, revocation, demo PKI"),
                          as: "pki")

    // Start-up work that touches the database happens only for `serve`, so that `migrate` and
    // the other commands see the database as it is.
    if isServeCommand(app) {
        // First: nothing else boots without the hub's seal outside demo mode.
        app.lifecycle.use(HubSealCheck())
        app.lifecycle.use(Housekeeping())
        app.lifecycle.use(WebhookDispatcher())
        app.lifecycle.use(CheckpointWriter())
        app.lifecycle.use(OfficeWorker())
        try await DatabaseSetup.tuneSQLite(app)
        if config.autoMigrate {
            try await app.autoMigrate()
        }
        // Before the demo offices seal anything: rows sealed by another key stop start-up here.
        do {
            try await app.secrets.prepare(on: app.db, logger: app.logger)
        } catch let error as GovError {
            throw StartupRefusal(error: error)
        }
        if config.isDemoMode {
            if try await DemoSeeder.seedIfEmpty(app) {
                app.logger.notice("\(DemoSeeder.banner())")
            }
            // Opt-in: a connected demo office takes G22's and H41's hub inboxes, which integrators
            // and the test harnesses drive themselves on a demo server.
            if config.demoOffices { try await DemoOffices.connectIfNone(app) }
        }
        // Last, once the demo data may exist: no published password reaches beyond loopback.
        try await DemoPasswordGuard.check(app)
        // The seal (made here in demo mode) is installed before the workers start and before `serve` starts
        // the server (see the storage note above); without a seal outside demo mode HubSealCheck stops
        // start-up with its message.
        _ = try? app.hubSeal()
        if config.database.isPostgres, config.demo != .on {
            app.logger.info("PostgreSQL: dữ liệu mẫu không tự tạo / demo data is never auto-seeded (govoffice demo seed)")
        }
        // Before `migrate` has run the table may not exist yet: nothing is trusted then.
        if !config.isDemoMode, (try? await app.pki.trustsDemoCA()) == true {
            app.logger.critical("""
                CẢNH BÁO: máy chủ đang tin cậy CA MẪU của GovOffice ngoài chế độ dùng thử; chữ ký do CA này cấp \
                không có giá trị pháp lý. Gỡ bằng `govoffice pki list` rồi `govoffice pki untrust SHA256`. / WARNING: this \
                server trusts the GovOffice DEMO CA outside demo mode; its signatures have no legal value. Remove it with \
                `govoffice pki list`, then `govoffice pki untrust SHA256`.
                """)
        }
    } else if case .sqliteFile = config.database, needsDatabase(app) {
        // Commands on the embedded file work on a migrated database too.
        try await DatabaseSetup.tuneSQLite(app)
        // A backup copies the file as it is: it never migrates what it copies.
        if config.autoMigrate, !isMigrateCommand(app), !isBackupCommand(app) { try await app.autoMigrate() }
    }
}

/// `serve` does not boot outside demo mode without the hub's seal; a configured seal is read now,
/// so a wrong path stops start-up rather than the first receipt and before any worker starts.
struct HubSealCheck: LifecycleHandler {
    func willBoot(_ application: Application) throws {
        do {
            try HubSeal.requireConfigured(application.govConfig)
            if application.govConfig.hub.sealKeyPath != nil { _ = try application.hubSeal() }
        } catch let error as GovError {
            throw StartupRefusal(error: error)
        }
    }
}

/// A reason `serve` does not start, printed in both languages with its code.
struct StartupRefusal: Error, CustomStringConvertible {
    let error: GovError
    var description: String { "\(error.code): \(error.vi) / \(error.en)" }
}

private func isServeCommand(_ app: Application) -> Bool {
    let args = app.environment.arguments.dropFirst()
    guard let first = args.first else { return true }
    return first == "serve" || first.hasPrefix("-")
}

/// The codec's and the signer's commands work on files only.
private func needsDatabase(_ app: Application) -> Bool {
    !["edxml", "sign", "client"].contains(app.environment.arguments.dropFirst().first ?? "")
}

private func isBackupCommand(_ app: Application) -> Bool {
    app.environment.arguments.dropFirst().first == "backup"
}

private func isMigrateCommand(_ app: Application) -> Bool {
    app.environment.arguments.dropFirst().first == "migrate"
}

/// Route groups: public pages and operations; browser pages with sessions and CSRF; the JSON API.
func routes(_ app: Application) throws {
    try app.register(collection: OperationsController())

    let sessions = app.sessions.middleware
    let browser = app.grouped(sessions, SessionAuthMiddleware(), CSRFMiddleware())
    try browser.register(collection: AuthController())
    try browser.register(collection: HomeController())
    try browser.register(collection: AgencyController(uploadLimit: app.govConfig.maxUploadBytes))
    try browser.register(collection: UserAdminController())
    try browser.register(collection: SystemAdminController())
    try browser.register(collection: AuditController())
    try browser.register(collection: PKIAdminController())
    try browser.register(collection: HubAdminController())
    try browser.register(collection: OfficeController(uploadLimit: app.govConfig.maxUploadBytes))
    try browser.register(collection: WorkFileController())
    try browser.register(collection: CalendarController())
    // Calendar apps fetch the feeds without a session: the secret in the URL is the credential.
    try app.register(collection: CalendarFeedController())

    let api = app.grouped("api", "v1")
    try api.register(collection: AgencyAPIController())
    try api.register(collection: SystemAPIController())
    try api.register(collection: HubAPIController())
    // Browser-session JSON reads (GET only, so no CSRF token is needed).
    try api.grouped(sessions, SessionAuthMiddleware()).register(collection: UsersAPIController())
}

/// The decoder for text/plain request bodies: every form and API route decodes JSON, URL-encoded
/// or multipart content, so a text/plain body is an unsupported media type (415 with the error body).
struct PlainTextBodyRefused: ContentDecoder {
    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        throw Abort(.unsupportedMediaType)
    }
}
