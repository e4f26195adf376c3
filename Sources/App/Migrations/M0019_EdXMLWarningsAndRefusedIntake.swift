import Fluent
import SQLKit

/// Two records of what the exchange tolerates and what it refuses (issue 14, items 8 and 5), in
/// their own file so that it merges cleanly with the migrations other branches add:
/// - `exchange_messages.warnings`: the codec's warnings about an accepted message (JSON list of
///   issues), shown on its trace page; NULL when there were none or the row is older;
/// - `office_refused_messages`: a revocation, update or status the office did not apply because
///   its signature did not verify, kept with its bytes and the reason for audit.
struct M0019_EdXMLWarningsAndRefusedIntake: AsyncMigration {
    var name: String { "0019_edxml_warnings_and_refused_intake" }

    func prepare(on database: any Database) async throws {
        try await database.schema("exchange_messages").field("warnings", .string).update()
        try await database.schema(OfficeRefusedMessage.schema)
            .id()
            .field("agency_code", .string, .required)
            .field("hub_message_id", .string, .required)
            .field("kind", .string, .required)
            .field("business_type", .string)
            .field("status_code", .string)
            .field("sender_code", .string, .required)
            .field("document_id", .string)
            .field("reason", .string, .required)
            .field("edxml", .data, .required)
            .field("refused_at", .datetime)
            // The same hub message fetched twice (a retry, another node) is one record.
            .unique(on: "agency_code", "hub_message_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OfficeRefusedMessage.schema).delete()
        try await database.schema("exchange_messages").deleteField("warnings").update()
    }
}
