import Fluent
import SQLKit

/// The work and meeting calendar (lịch công tác, lịch họp): rooms, entries, who takes part, and the
/// tokens of the iCalendar feeds. Kept in its own file so that it merges cleanly with the migrations
/// other branches add to Migrations.swift.
struct M0011_CreateCalendar: AsyncMigration {
    var name: String { "0011_create_calendar" }

    func prepare(on database: any Database) async throws {
        try await database.schema(CalendarRoom.schema)
            .id()
            .field("agency_id", .uuid, .required, .references(Agency.schema, "id", onDelete: .restrict))
            .field("name", .string, .required)
            .field("capacity", .int)
            .field("created_at", .datetime)
            .unique(on: "agency_id", "name")
            .create()

        try await database.schema(CalendarEntryRecord.schema)
            .id()
            .field("agency_id", .uuid, .required, .references(Agency.schema, "id", onDelete: .restrict))
            .field("kind", .string, .required)
            .field("title", .string, .required)
            .field("start_at", .datetime, .required)
            .field("end_at", .datetime, .required)
            .field("room_id", .uuid, .references(CalendarRoom.schema, "id", onDelete: .restrict))
            .field("location", .string)
            .field("details", .string, .required)
            .field("host_user_id", .uuid, .references(User.schema, "id", onDelete: .restrict))
            .field("cancelled", .bool, .required)
            .field("created_by", .string, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        // The week page and the feeds read by agency and time; the double-booking check by room and time.
        try await database.createIndex("calendar_entries_agency_start", on: CalendarEntryRecord.schema, "agency_id", "start_at")
        try await database.createIndex("calendar_entries_room_start", on: CalendarEntryRecord.schema, "room_id", "start_at")
        try await database.createIndex("calendar_entries_host", on: CalendarEntryRecord.schema, "host_user_id")

        // No id column: the pair is the identity, and only SQLKit reads and writes these rows.
        try await database.schema(CalendarService.participantsTable)
            .field("entry_id", .uuid, .required, .references(CalendarEntryRecord.schema, "id", onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .unique(on: "entry_id", "user_id")
            .create()
        try await database.createIndex("calendar_participants_user", on: CalendarService.participantsTable, "user_id")

        try await database.schema(CalendarFeedToken.schema)
            .id()
            .field("user_id", .uuid, .references(User.schema, "id", onDelete: .cascade))
            .field("agency_id", .uuid, .required, .references(Agency.schema, "id", onDelete: .restrict))
            .field("token_hash", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.createIndex("calendar_feed_tokens_owner", on: CalendarFeedToken.schema, "agency_id", "user_id")
    }

    func revert(on database: any Database) async throws {
        for schema in [CalendarFeedToken.schema, CalendarService.participantsTable, CalendarEntryRecord.schema,
                       CalendarRoom.schema] {
            try await database.schema(schema).delete()
        }
    }
}
