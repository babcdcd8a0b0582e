using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeferredMessageSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The FTS5 search index of MessageSearchIndexes is no longer written by a trigger per inserted row (FTS5
            // flushes its postings at every statement, so one-row INSERTs cost a segment each) but behind a cursor
            // (Mailroom.Core.Queue.MessageSearchIndex): every row with rowid <= "Indexed" is in the index, none above.
            // The rows stored so far were indexed by the old trigger, so the cursor starts at the highest rowid.
            migrationBuilder.Sql("""
                CREATE TABLE outbound_message_search_cursor (
                    "Id" INTEGER NOT NULL PRIMARY KEY CHECK ("Id" = 1),
                    "Indexed" INTEGER NOT NULL);
                """);
            migrationBuilder.Sql("""INSERT INTO outbound_message_search_cursor ("Id", "Indexed") SELECT 1, coalesce(max(rowid), 0) FROM outbound_messages;""");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_insert;");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_delete;");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_update;");
            // A row inserted at or below the cursor is indexed at once: SQLite gives a new row max(rowid) + 1, which is
            // at or below the cursor only when the newest rows were deleted (retention emptied the table).
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_insert AFTER INSERT ON outbound_messages
                WHEN new.rowid <= (SELECT "Indexed" FROM outbound_message_search_cursor) BEGIN
                    INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
                    VALUES (new.rowid, new."RecipientsJson", new."From", new."Subject");
                END;
                """);
            // Only indexed rows leave the index (an external-content 'delete' of a row it does not hold corrupts it).
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_delete AFTER DELETE ON outbound_messages
                WHEN old.rowid <= (SELECT "Indexed" FROM outbound_message_search_cursor) BEGIN
                    INSERT INTO outbound_message_search(outbound_message_search, rowid, "RecipientsJson", "From", "Subject")
                    VALUES ('delete', old.rowid, old."RecipientsJson", old."From", old."Subject");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_update AFTER UPDATE OF "RecipientsJson", "From", "Subject" ON outbound_messages
                WHEN old.rowid <= (SELECT "Indexed" FROM outbound_message_search_cursor) BEGIN
                    INSERT INTO outbound_message_search(outbound_message_search, rowid, "RecipientsJson", "From", "Subject")
                    VALUES ('delete', old.rowid, old."RecipientsJson", old."From", old."Subject");
                    INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
                    VALUES (new.rowid, new."RecipientsJson", new."From", new."Subject");
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_update;");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_delete;");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_insert;");
            migrationBuilder.Sql("DROP TABLE outbound_message_search_cursor;");
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_insert AFTER INSERT ON outbound_messages BEGIN
                    INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
                    VALUES (new.rowid, new."RecipientsJson", new."From", new."Subject");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_delete AFTER DELETE ON outbound_messages BEGIN
                    INSERT INTO outbound_message_search(outbound_message_search, rowid, "RecipientsJson", "From", "Subject")
                    VALUES ('delete', old.rowid, old."RecipientsJson", old."From", old."Subject");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_update AFTER UPDATE OF "RecipientsJson", "From", "Subject" ON outbound_messages BEGIN
                    INSERT INTO outbound_message_search(outbound_message_search, rowid, "RecipientsJson", "From", "Subject")
                    VALUES ('delete', old.rowid, old."RecipientsJson", old."From", old."Subject");
                    INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
                    VALUES (new.rowid, new."RecipientsJson", new."From", new."Subject");
                END;
                """);
            // Rows stored above the cursor were never indexed.
            migrationBuilder.Sql("INSERT INTO outbound_message_search(outbound_message_search) VALUES ('rebuild');");
        }
    }
}
