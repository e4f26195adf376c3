import Fluent
import GovCore
import Foundation
import NIOConcurrencyHelpers
import Vapor

/// A random key of this deployment kept in the database, so that every node sharing it uses the same one
/// (today: the key that signs the CSRF cookie of forms shown to people who are not signed in).
final class AppKey: Model, @unchecked Sendable {
    static let schema = "app_keys"
    static let csrfName = "csrf_cookie"

    @ID(custom: "name", generatedBy: .user) var id: String?
    @Field(key: "value") var value: String

    init() {}

    init(name: String, value: String) {
        self.id = name
        self.value = value
    }
}

/// The keys, read once per process: they never change while it runs.
final class AppKeyCache: Sendable {
    private let keys = NIOLockedValueBox<[String: String]>([:])

    func value(_ name: String, on db: any Database) async throws -> String {
        if let cached = keys.withLockedValue({ $0[name] }) { return cached }
        var row = try await AppKey.find(name, on: db)
        if row == nil {
            // A key not made by a migration is made on first use; when two nodes race, the loser's insert
            // fails on the primary key and it reads the winner's.
            try? await AppKey(name: name, value: SystemSecret.generate()).create(on: db)
            row = try await AppKey.find(name, on: db)
        }
        guard let value = row?.value else { throw Abort(.internalServerError, reason: "deployment key \(name) missing") }
        keys.withLockedValue { $0[name] = value }
        return value
    }
}

extension Application {
    private struct AppKeyCacheKey: StorageKey { typealias Value = AppKeyCache }

    /// The deployment keys of ``AppKey``.
    var appKeys: AppKeyCache {
        if let cache = storage[AppKeyCacheKey.self] { return cache }
        let cache = AppKeyCache()
        storage[AppKeyCacheKey.self] = cache
        return cache
    }
}
